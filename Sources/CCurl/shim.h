#ifndef NOKO_CCURL_SHIM_H
#define NOKO_CCURL_SHIM_H
#include <curl/curl.h>

/* Swift cannot call C variadic functions: one typed wrapper per argument kind. */
typedef size_t (*noko_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode noko_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode noko_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode noko_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode noko_curl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode noko_curl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode noko_curl_easy_setopt_callback(CURL *h, CURLoption o, noko_curl_data_callback cb) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode noko_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode noko_curl_easy_getinfo_double(CURL *h, CURLINFO i, double *out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode noko_curl_easy_getinfo_string(CURL *h, CURLINFO i, char **out) { return curl_easy_getinfo(h, i, out); }

/* Debug trace callback (CURLOPT_DEBUGFUNCTION): noko redacts credentials before logging. */
typedef int (*noko_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);
static inline CURLcode noko_curl_easy_setopt_debug_callback(CURL *h, noko_curl_debug_callback cb) { return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, cb); }

/* Macros Swift cannot import (casts and shifts), as plain constants. */
static inline long noko_curlauth_basic(void) { return (long)CURLAUTH_BASIC; }
static inline long noko_curlauth_bearer(void) { return (long)CURLAUTH_BEARER; }
static inline long noko_curl_global_default(void) { return CURL_GLOBAL_DEFAULT; }
static inline int noko_curl_error_size(void) { return CURL_ERROR_SIZE; }
#endif
