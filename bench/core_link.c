/* bench/core_link.c -- how long a cache line takes to go from one CPU to another and back.
 *
 * Two threads, one on each of two CPUs (default 0 and 1), hand one cache line back and forth
 * (each waits for the other's write): prints the median nanoseconds per round trip of 9 rounds
 * of 50,000. A pipeline that passes every event between threads pays this on every handoff, so
 * on a virtual machine whose CPUs the host sometimes places close together (a shared cache)
 * and sometimes far apart, the same run takes very different CPU time (docs/benchmarks.md).
 *
 *   gcc -O2 -pthread -o core_link bench/core_link.c && ./core_link [CPU_A CPU_B]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRIPS 50000
#define ROUNDS 9

static _Alignas(64) _Atomic long line;
static int cpu_b;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);  /* best effort: unpinned still measures */
}

static void *answer(void *unused) {
    (void)unused;
    pin(cpu_b);
    for (long i = 0; i < (long)TRIPS * ROUNDS; i++) {
        while (atomic_load_explicit(&line, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&line, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int cpu_a = argc > 2 ? atoi(argv[1]) : 0;
    cpu_b = argc > 2 ? atoi(argv[2]) : 1;
    pthread_t other;
    pthread_create(&other, NULL, answer, NULL);
    pin(cpu_a);
    double ns[ROUNDS];
    long i = 0;
    for (int r = 0; r < ROUNDS; r++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long end = i + TRIPS; i < end; i++) {
            atomic_store_explicit(&line, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&line, memory_order_acquire) != 2 * i + 2) {}
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        ns[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / TRIPS;
    }
    pthread_join(other, NULL);
    qsort(ns, ROUNDS, sizeof ns[0], by_value);
    printf("%.0f\n", ns[ROUNDS / 2]);
    return 0;
}
