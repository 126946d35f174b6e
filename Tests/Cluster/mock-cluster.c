/*
 * A Kafka-protocol cluster of N brokers on 127.0.0.1, from librdkafka's mock cluster
 * (rdkafka_mock.h), driven by line commands on standard input. Tests/Cluster/cluster_cli.py
 * builds and runs it; see docs/client.md.
 *
 *   mock-cluster [BROKERS]        (default 3) prints "bootstrap HOST:PORT,..." then reads:
 *
 *   topic NAME PARTITIONS         create a topic (replication factor: min(3, BROKERS))
 *   leader NAME PARTITION BROKER  move a partition's leader
 *   down BROKER | up BROKER       take a broker down (connections closed, connects refused) or back
 *   coordinator GROUP BROKER      make BROKER the group's coordinator
 *   quit                          (or end of input)
 *
 * Each command is answered with one line: "ok" or "error WHAT". Broker ids are 1..BROKERS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

static void answer(rd_kafka_resp_err_t err) {
        if (err)
                printf("error %s\n", rd_kafka_err2str(err));
        else
                printf("ok\n");
        fflush(stdout);
}

int main(int argc, char **argv) {
        int brokers = argc > 1 ? atoi(argv[1]) : 3;
        char errstr[512];
        char line[1024];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *cluster;

        if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "mock-cluster: BROKERS must be 1 to 16\n");
                return 2;
        }
        /* The handle only keeps the cluster's books: it never connects anywhere. */
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
                fprintf(stderr, "mock-cluster: %s\n", errstr);
                return 1;
        }
        if (!(cluster = rd_kafka_mock_cluster_new(rk, brokers))) {
                fprintf(stderr, "mock-cluster: cannot create the mock cluster\n");
                rd_kafka_destroy(rk);
                return 1;
        }
        printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(cluster));
        fflush(stdout);

        while (fgets(line, sizeof(line), stdin)) {
                char name[512];
                int a, b;
                if (sscanf(line, "topic %511s %d", name, &a) == 2)
                        answer(rd_kafka_mock_topic_create(cluster, name, a, brokers < 3 ? brokers : 3));
                else if (sscanf(line, "leader %511s %d %d", name, &a, &b) == 3)
                        answer(rd_kafka_mock_partition_set_leader(cluster, name, a, b));
                else if (sscanf(line, "down %d", &a) == 1)
                        answer(rd_kafka_mock_broker_set_down(cluster, a));
                else if (sscanf(line, "up %d", &a) == 1)
                        answer(rd_kafka_mock_broker_set_up(cluster, a));
                else if (sscanf(line, "coordinator %511s %d", name, &a) == 2)
                        answer(rd_kafka_mock_coordinator_set(cluster, "group", name, a));
                else if (strncmp(line, "quit", 4) == 0)
                        break;
                else {
                        printf("error unknown command\n");
                        fflush(stdout);
                }
        }
        rd_kafka_mock_cluster_destroy(cluster);
        rd_kafka_destroy(rk);
        return 0;
}
