/// What a delivery report's error code means for the record (pure).
enum KafkaDeliveryVerdict: Equatable {
    /// The broker has it (with `acks=all`: every in-sync replica).
    case delivered
    /// Transient (broker down, leader moved, timed out): produce the record again.
    case retry
    /// Never accepted however often it is sent (too large, invalid, not authorized): logged,
    /// counted as failed, and not sent again.
    case rejected

    /// librdkafka error codes (`rd_kafka_resp_err_t`) for which a resend cannot succeed.
    static let permanent: Set<Int32> = [
        2,  // CORRUPT_MESSAGE / INVALID_MSG
        4,  // INVALID_MSG_SIZE
        10,  // MSG_SIZE_TOO_LARGE
        17,  // INVALID_TOPIC_EXCEPTION
        18,  // RECORD_LIST_TOO_LARGE
        21,  // INVALID_REQUIRED_ACKS
        29,  // TOPIC_AUTHORIZATION_FAILED
        31,  // CLUSTER_AUTHORIZATION_FAILED
        87,  // INVALID_RECORD
        -186,  // _INVALID_ARG
        -188,  // _UNKNOWN_TOPIC (topic not in the cluster and not auto-created)
        -150,  // _FATAL
    ]

    init(code: Int32) {
        if code == 0 {
            self = .delivered
        } else if Self.permanent.contains(code) {
            self = .rejected
        } else {
            self = .retry
        }
    }
}
