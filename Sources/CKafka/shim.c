#include "CKafka.h"
#include <string.h>

int CKafka_confSet(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen) {
    return rd_kafka_conf_set(conf, name, value, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

static CKafka_DeliveryCallback deliveryCallback;

static void onDelivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
    (void)rk; (void)opaque;
    if (deliveryCallback) deliveryCallback(msg->_private, (int)msg->err, msg);
}

void CKafka_setDeliveryCallback(rd_kafka_conf_t *conf, CKafka_DeliveryCallback cb) {
    deliveryCallback = cb;
    rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
}

static CKafka_RebalanceCallback rebalanceCallback;

static void onRebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *partitions, void *opaque) {
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (rebalanceCallback) rebalanceCallback(opaque, 1, partitions);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, partitions);
            if (e) rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, partitions);
        }
    } else {
        if (rebalanceCallback) rebalanceCallback(opaque, 0, partitions);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, partitions);
            if (e) rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    }
}

void CKafka_setRebalanceCallback(rd_kafka_conf_t *conf, CKafka_RebalanceCallback cb, void *opaque) {
    rebalanceCallback = cb;
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_conf_set_rebalance_cb(conf, onRebalance);
}

rd_kafka_resp_err_t CKafka_produce(rd_kafka_t *rk, const char *topic, const void *value, size_t valueLen,
    const void *key, size_t keyLen, const char *headerName, const void *headerValue, size_t headerLen, void *opaque) {
    if (headerName) {
        rd_kafka_headers_t *headers = rd_kafka_headers_new(1);
        rd_kafka_header_add(headers, headerName, -1, headerValue, (ssize_t)headerLen);
        rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)value, valueLen), RD_KAFKA_V_KEY(key, keyLen), RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        // On success the record owns the headers; on failure they are still ours.
        if (err) rd_kafka_headers_destroy(headers);
        return err;
    }
    return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)value, valueLen), RD_KAFKA_V_KEY(key, keyLen), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

const void *CKafka_header(const rd_kafka_message_t *msg, const char *name, size_t *len) {
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return NULL;
    const void *value = NULL;
    if (rd_kafka_header_get_last(headers, name, &value, len) != RD_KAFKA_RESP_ERR_NO_ERROR) return NULL;
    return value;
}

rd_kafka_topic_partition_t *CKafka_partitionAt(rd_kafka_topic_partition_list_t *list, int i) {
    return &list->elems[i];
}
