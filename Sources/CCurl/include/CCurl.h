#ifndef CCURL_H
#define CCURL_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: Swift cannot call them, so each
// argument type gets a typed wrapper.
static inline CURLcode CCurl_setoptLong(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptString(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptPointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptSlist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptOffT(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*CCurl_WriteCallback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode CCurl_setoptWriteFunction(CURL *h, CCurl_WriteCallback f) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode CCurl_getinfoLong(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
