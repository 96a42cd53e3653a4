// libcurl for tokenrun-http, reached only through Sources/TokenrunCurl. The
// option and information calls are variadic, which Swift cannot call, so each
// kind gets a typed inline wrapper. (The libc calls of the Embedded helpers come
// from Sources/CLibc.)
#ifndef TOKENRUN_CCURL_SHIM_H
#define TOKENRUN_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode tokenrun_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tokenrun_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tokenrun_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tokenrun_curl_set_list(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*tokenrun_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode tokenrun_curl_set_callback(CURL *handle, CURLoption option, tokenrun_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline long tokenrun_curl_info_long(CURL *handle, CURLINFO info) {
    long value = 0;
    if (curl_easy_getinfo(handle, info, &value) != CURLE_OK) return -1;
    return value;
}

static inline double tokenrun_curl_info_double(CURL *handle, CURLINFO info) {
    double value = 0;
    if (curl_easy_getinfo(handle, info, &value) != CURLE_OK) return -1;
    return value;
}

#endif
