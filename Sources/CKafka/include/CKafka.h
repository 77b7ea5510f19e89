#ifndef CKAFKA_H
#define CKAFKA_H
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

// A thin layer over librdkafka for Swift: rd_kafka_producev is variadic and the callbacks need C
// function pointers, so each gets a plain wrapper here.

/// Sets one property; on failure `err` (of `errlen` bytes) holds librdkafka's message. 0 = ok.
int CKafka_confSet(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen);

/// Delivery reports: called from rd_kafka_poll with the message's opaque, its error code and,
/// for failed records, the record itself (for a retry).
typedef void (*CKafka_DeliveryCallback)(void *msgOpaque, int err, const rd_kafka_message_t *msg);
void CKafka_setDeliveryCallback(rd_kafka_conf_t *conf, CKafka_DeliveryCallback cb);

/// Rebalance: `assigned` = 1 for an assignment, 0 for a revocation, called before the shim
/// applies it (so a revocation may commit what is settled first). `opaque` is the conf's opaque.
typedef void (*CKafka_RebalanceCallback)(void *opaque, int assigned, rd_kafka_topic_partition_list_t *partitions);
void CKafka_setRebalanceCallback(rd_kafka_conf_t *conf, CKafka_RebalanceCallback cb, void *opaque);

/// Produces one record (copied) to `topic` with an optional key and one optional header.
rd_kafka_resp_err_t CKafka_produce(rd_kafka_t *rk, const char *topic, const void *value, size_t valueLen,
    const void *key, size_t keyLen, const char *headerName, const void *headerValue, size_t headerLen, void *opaque);

/// The value of the record's header `name` (NULL when absent).
const void *CKafka_header(const rd_kafka_message_t *msg, const char *name, size_t *len);

/// Offset of entry `i` of a partition list / its fields.
rd_kafka_topic_partition_t *CKafka_partitionAt(rd_kafka_topic_partition_list_t *list, int i);

#endif
