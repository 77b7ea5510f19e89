/*
 * Copied unchanged (apart from this note) from the benchmark harness: the null sink the peers (Fluent Bit, rsyslog, syslog-ng) were
 * measured against (docs/benchmarks.md), so driftwood's W2 figures are taken
 * against the same server. bench/w2.sh builds it with gcc.
 */
/*
 * es_null_sink.c - Elasticsearch _bulk compatible HTTP null sink for benchmarks.
 *
 * Listens on 127.0.0.1 only. Accepts POST /_bulk and POST /{index}/_bulk
 * (any path whose last segment before '?' is "_bulk"), bodies with
 * Content-Length or Transfer-Encoding: chunked, optional Content-Encoding: gzip
 * (or deflate). Counts the bulk actions (documents), answers a valid bulk
 * response: {"took":N,"errors":false,"items":[{"index":{...,"status":201}},...]}
 *
 * Other endpoints:
 *   GET /              ES-like banner (some clients probe it)
 *   GET /_sink/stats   {"docs":..,"requests":..,"bytes_in":..,"bytes_inflated":..,"checked":..}
 *   POST /_sink/reset  zero all counters
 *   anything else      200 {} (HEAD too), so template/ILM probes do not fail
 *
 * Build:  gcc -O2 -pthread -o es_null_sink es_null_sink.c -lz
 * Run:    es_null_sink --port 9200 [--check '"model_version":"1.4.2"'] [--sample FILE]
 *
 * One thread per connection, blocking I/O; counters are atomics.
 * --check S counts documents whose source line contains S (costs a memmem per doc).
 * --sample FILE writes the first 4 decompressed body lines of the first bulk request.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static atomic_ullong g_docs, g_reqs, g_bytes_in, g_bytes_inflated, g_checked, g_bad;
static const char *g_check = NULL;
static size_t g_check_len = 0;
static const char *g_sample = NULL;
static atomic_int g_sample_done;

typedef struct { char *p; size_t len, cap; } buf_t;

static void buf_reserve(buf_t *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t nc = b->cap ? b->cap : 65536;
    while (nc < b->len + extra) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) { perror("realloc"); exit(1); }
    b->p = np; b->cap = nc;
}
static void buf_append(buf_t *b, const void *d, size_t n) {
    buf_reserve(b, n); memcpy(b->p + b->len, d, n); b->len += n;
}

typedef struct {
    int fd;
    char rbuf[1 << 16];
    size_t rstart, rend;
} conn_t;

/* read more bytes into rbuf; returns bytes read, 0 on EOF, -1 on error */
static ssize_t conn_fill(conn_t *c) {
    if (c->rstart > 0 && c->rstart == c->rend) { c->rstart = c->rend = 0; }
    if (c->rend == sizeof(c->rbuf)) {
        if (c->rstart == 0) return -1; /* header too large */
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart; c->rstart = 0;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rend, sizeof(c->rbuf) - c->rend, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) c->rend += (size_t)n;
        return n;
    }
}

/* read exactly n bytes of body into out (appending) */
static int conn_read_n(conn_t *c, buf_t *out, size_t n) {
    while (n > 0) {
        if (c->rstart == c->rend) { if (conn_fill(c) <= 0) return -1; }
        size_t avail = c->rend - c->rstart;
        size_t take = avail < n ? avail : n;
        if (out) buf_append(out, c->rbuf + c->rstart, take);
        c->rstart += take; n -= take;
    }
    return 0;
}

/* read a CRLF-terminated line (without CRLF) into line (max cap-1) */
static int conn_read_line(conn_t *c, char *line, size_t cap) {
    for (;;) {
        char *s = c->rbuf + c->rstart;
        char *e = memchr(s, '\n', c->rend - c->rstart);
        if (e) {
            size_t l = (size_t)(e - s);
            if (l > 0 && s[l - 1] == '\r') l--;
            if (l >= cap) l = cap - 1;
            memcpy(line, s, l); line[l] = 0;
            c->rstart += (size_t)(e - s) + 1;
            return 0;
        }
        ssize_t n = conn_fill(c);
        if (n <= 0) return -1;
    }
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; n -= (size_t)w;
    }
    return 0;
}

static int send_response(int fd, int status, const char *reason, const char *body, size_t blen, int keepalive) {
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr,
        "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\n"
        "Content-Length: %zu\r\nX-elastic-product: Elasticsearch\r\n%s\r\n",
        status, reason, blen, keepalive ? "" : "Connection: close\r\n");
    if (send_all(fd, hdr, (size_t)hl) < 0) return -1;
    if (blen && send_all(fd, body, blen) < 0) return -1;
    return 0;
}

static int inflate_body(const buf_t *in, buf_t *out, int gzip) {
    z_stream zs; memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, gzip ? (16 + MAX_WBITS) : MAX_WBITS) != Z_OK) return -1;
    zs.next_in = (Bytef *)in->p; zs.avail_in = (uInt)in->len;
    int rc;
    do {
        buf_reserve(out, in->len * 4 + 65536);
        zs.next_out = (Bytef *)(out->p + out->len);
        zs.avail_out = (uInt)(out->cap - out->len);
        rc = inflate(&zs, Z_NO_FLUSH);
        out->len = out->cap - zs.avail_out;
        if (rc == Z_STREAM_END && zs.avail_in > 0) { /* concatenated gzip members */
            inflateReset(&zs); rc = Z_OK;
        }
    } while (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0));
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* Scan NDJSON bulk body; append one item per action to resp. Returns #actions. */
static unsigned long long process_bulk(const char *p, size_t n, buf_t *resp, const char *index,
                                       unsigned long long *checked) {
    const char *e = p + n;
    unsigned long long count = 0, chk = 0;
    int expect_source = 0;
    char item[256];
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *le = nl ? nl : e;
        const char *s = skip_ws(p, le);
        if (s < le) {
            if (expect_source) {
                expect_source = 0;
                if (g_check && memmem(s, (size_t)(le - s), g_check, g_check_len)) chk++;
            } else {
                /* action line: {"index":{...}} / create / update / delete */
                const char *q = s;
                if (*q == '{') q++;
                q = skip_ws(q, le);
                const char *act = "index";
                if (le - q >= 8 && memcmp(q, "\"create\"", 8) == 0) act = "create";
                else if (le - q >= 8 && memcmp(q, "\"update\"", 8) == 0) act = "update";
                else if (le - q >= 8 && memcmp(q, "\"delete\"", 8) == 0) act = "delete";
                expect_source = strcmp(act, "delete") != 0;
                count++;
                int il = snprintf(item, sizeof item,
                    "%s{\"%s\":{\"_index\":\"%s\",\"_id\":\"%llu\",\"_version\":1,\"result\":\"created\",\"status\":201}}",
                    count > 1 ? "," : "", act, index, count);
                buf_append(resp, item, (size_t)il);
            }
        }
        p = nl ? nl + 1 : e;
    }
    *checked = chk;
    return count;
}

static void write_sample(const char *p, size_t n) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_sample_done, &expected, 1)) return;
    FILE *f = fopen(g_sample, "w");
    if (!f) return;
    const char *e = p + n; int lines = 0;
    while (p < e && lines < 4) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *le = nl ? nl + 1 : e;
        fwrite(p, 1, (size_t)(le - p), f);
        p = le; lines++;
    }
    fclose(f);
}

static void *conn_main(void *arg) {
    conn_t *c = arg;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char line[8192], method[16], path[4096];
    buf_t body = {0}, infl = {0}, resp = {0};
    for (;;) {
        if (conn_read_line(c, line, sizeof line) < 0) break;
        if (line[0] == 0) continue; /* stray CRLF between requests */
        if (sscanf(line, "%15s %4095s", method, path) != 2) break;
        long long clen = -1; int chunked = 0, gz = 0, deflate = 0, keepalive = 1, expect100 = 0;
        if (strstr(line, "HTTP/1.0")) keepalive = 0;
        for (;;) {
            if (conn_read_line(c, line, sizeof line) < 0) goto done;
            if (line[0] == 0) break;
            char *colon = strchr(line, ':');
            if (!colon) continue;
            *colon = 0; char *v = colon + 1; while (*v == ' ' || *v == '\t') v++;
            if (!strcasecmp(line, "Content-Length")) clen = atoll(v);
            else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked")) chunked = 1;
            else if (!strcasecmp(line, "Content-Encoding")) {
                if (strcasestr(v, "gzip")) gz = 1; else if (strcasestr(v, "deflate")) deflate = 1;
            } else if (!strcasecmp(line, "Connection")) {
                if (strcasestr(v, "close")) keepalive = 0;
                else if (strcasestr(v, "keep-alive")) keepalive = 1;
            } else if (!strcasecmp(line, "Expect") && strcasestr(v, "100-continue")) expect100 = 1;
        }
        if (expect100 && send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) break;
        body.len = 0;
        if (chunked) {
            for (;;) {
                if (conn_read_line(c, line, sizeof line) < 0) goto done;
                unsigned long long cs = strtoull(line, NULL, 16);
                if (cs == 0) { /* trailers */
                    for (;;) { if (conn_read_line(c, line, sizeof line) < 0) goto done; if (!line[0]) break; }
                    break;
                }
                if (conn_read_n(c, &body, (size_t)cs) < 0) goto done;
                if (conn_read_line(c, line, sizeof line) < 0) goto done;
            }
        } else if (clen > 0) {
            if (conn_read_n(c, &body, (size_t)clen) < 0) goto done;
        }
        atomic_fetch_add(&g_bytes_in, body.len);

        char *q = strchr(path, '?'); if (q) *q = 0;
        size_t pl = strlen(path);
        int is_bulk = pl >= 6 && strcmp(path + pl - 6, "/_bulk") == 0;
        if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
            if (is_bulk) {
                struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
                const char *data = body.p; size_t dlen = body.len;
                if (gz || deflate) {
                    infl.len = 0;
                    if (inflate_body(&body, &infl, gz) < 0) {
                        atomic_fetch_add(&g_bad, 1);
                        const char *err = "{\"error\":{\"type\":\"parse_exception\",\"reason\":\"bad gzip body\"},\"status\":400}";
                        if (send_response(c->fd, 400, "Bad Request", err, strlen(err), keepalive) < 0) break;
                        if (!keepalive) break;
                        continue;
                    }
                    data = infl.p; dlen = infl.len;
                }
                atomic_fetch_add(&g_bytes_inflated, dlen);
                if (g_sample) write_sample(data, dlen);
                char index[256] = "default";
                if (pl > 6 && path[0] == '/') {
                    size_t il = pl - 6 - 1;
                    const char *ip = path + 1;
                    const char *slash = memchr(ip, '/', il);
                    if (slash) il = (size_t)(slash - ip);
                    if (il > 0 && il < sizeof index) { memcpy(index, ip, il); index[il] = 0; }
                }
                resp.len = 0;
                static const char head[] = "{\"took\":0,\"errors\":false,\"items\":[";
                buf_append(&resp, head, sizeof head - 1);
                unsigned long long chk = 0;
                unsigned long long nd = process_bulk(data, dlen, &resp, index, &chk);
                buf_append(&resp, "]}", 2);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                long took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
                char tk[24]; int tl = snprintf(tk, sizeof tk, "%ld", took);
                /* patch "took":0 with the real figure if it fits in one digit; keep it simple */
                if (tl == 1) resp.p[8] = tk[0];
                if (send_response(c->fd, 200, "OK", resp.p, resp.len, keepalive) < 0) break;
                /* count after the response is sent: a counted doc is an acknowledged doc */
                atomic_fetch_add(&g_docs, nd);
                atomic_fetch_add(&g_checked, chk);
                atomic_fetch_add(&g_reqs, 1);
            } else if (!strcmp(path, "/_sink/reset")) {
                atomic_store(&g_docs, 0); atomic_store(&g_reqs, 0); atomic_store(&g_bytes_in, 0);
                atomic_store(&g_bytes_inflated, 0); atomic_store(&g_checked, 0); atomic_store(&g_bad, 0);
                atomic_store(&g_sample_done, 0);
                if (send_response(c->fd, 200, "OK", "{\"reset\":true}", 14, keepalive) < 0) break;
            } else {
                if (send_response(c->fd, 200, "OK", "{}", 2, keepalive) < 0) break;
            }
        } else if (!strcmp(path, "/_sink/stats")) {
            char s[512];
            int sl = snprintf(s, sizeof s,
                "{\"docs\":%llu,\"requests\":%llu,\"bytes_in\":%llu,\"bytes_inflated\":%llu,\"checked\":%llu,\"bad\":%llu}",
                (unsigned long long)atomic_load(&g_docs), (unsigned long long)atomic_load(&g_reqs),
                (unsigned long long)atomic_load(&g_bytes_in), (unsigned long long)atomic_load(&g_bytes_inflated),
                (unsigned long long)atomic_load(&g_checked), (unsigned long long)atomic_load(&g_bad));
            if (send_response(c->fd, 200, "OK", s, (size_t)sl, keepalive) < 0) break;
        } else if (!strcmp(path, "/")) {
            const char *b = "{\"name\":\"es-null-sink\",\"cluster_name\":\"null\",\"version\":{\"number\":\"8.11.0\","
                            "\"build_flavor\":\"default\",\"lucene_version\":\"9.8.0\"},\"tagline\":\"You Know, for Search\"}";
            if (!strcmp(method, "HEAD")) { if (send_response(c->fd, 200, "OK", NULL, 0, keepalive) < 0) break; }
            else if (send_response(c->fd, 200, "OK", b, strlen(b), keepalive) < 0) break;
        } else {
            if (send_response(c->fd, 200, "OK", "{}", 2, keepalive) < 0) break;
        }
        if (!keepalive) break;
    }
done:
    close(c->fd);
    free(body.p); free(infl.p); free(resp.p); free(c);
    return NULL;
}

int main(int argc, char **argv) {
    int port = 9200;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--check") && i + 1 < argc) { g_check = argv[++i]; g_check_len = strlen(g_check); }
        else if (!strcmp(argv[i], "--sample") && i + 1 < argc) g_sample = argv[++i];
        else { fprintf(stderr, "usage: %s [--port N] [--check STRING] [--sample FILE]\n", argv[0]); return 2; }
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a; memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
    if (listen(ls, 512) < 0) { perror("listen"); return 1; }
    fprintf(stderr, "es_null_sink listening on 127.0.0.1:%d\n", port);
    pthread_attr_t attr; pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) continue; perror("accept"); continue; }
        conn_t *c = calloc(1, sizeof *c);
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, &attr, conn_main, c) != 0) { close(fd); free(c); }
    }
}
