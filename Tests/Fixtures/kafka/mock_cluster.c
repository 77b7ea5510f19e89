/* A librdkafka mock cluster for the tests (no Kafka broker is packaged for Debian).
 *
 *   gcc -o mock_cluster mock_cluster.c -lrdkafka
 *   ./mock_cluster BROKERS
 *
 * Prints the bootstrap address on its first line, then reads commands on stdin, one a line,
 * answering "ok" (or "error <why>") to each:
 *   topic NAME PARTITIONS    create a topic
 *   down ID / up ID          take broker ID (1..BROKERS) down / bring it back
 *   quit                     exit (so does end of input)
 * The cluster's data lives in this process: it is gone when the process ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv) {
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", err); return 1; }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) { fprintf(stderr, "cannot create the mock cluster\n"); return 1; }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char name[256];
        int n = 0;
        if (sscanf(line, "topic %255s %d", name, &n) == 2) {
            rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, n, brokers < 3 ? brokers : 3);
            if (e) printf("error %s\n", rd_kafka_err2str(e)); else printf("ok\n");
        } else if (sscanf(line, "down %d", &n) == 1) {
            rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_down(mc, n);
            if (e) printf("error %s\n", rd_kafka_err2str(e)); else printf("ok\n");
        } else if (sscanf(line, "up %d", &n) == 1) {
            rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_up(mc, n);
            if (e) printf("error %s\n", rd_kafka_err2str(e)); else printf("ok\n");
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            printf("error unknown command\n");
        }
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
