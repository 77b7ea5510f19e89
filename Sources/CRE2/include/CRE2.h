#ifndef CRE2_H
#define CRE2_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// A thin C view of RE2 (linear-time regular expressions) for Swift, which cannot call C++.
typedef struct CRE2_Regex CRE2_Regex;

// Compiles `pattern` (UTF-8, `length` bytes). On failure returns NULL and copies RE2's reason
// (NUL-terminated, cut to `errorCapacity`) into `error`, and its error code into `errorCode`.
CRE2_Regex *CRE2_new(const char *pattern, size_t length, char *error, size_t errorCapacity, int *errorCode);
void CRE2_delete(CRE2_Regex *regex);

// The number of capturing groups (named or not).
int CRE2_groupCount(const CRE2_Regex *regex);
// The name of capturing group `index` (1-based), or NULL when it has none. Owned by the regex.
const char *CRE2_groupName(const CRE2_Regex *regex, int index);

// 1 when the regex matches somewhere in `text`, else 0.
int CRE2_search(const CRE2_Regex *regex, const char *text, size_t length);

// Finds the first match in `text` and writes the byte range of groups 0..<count into `starts`
// and `ends` (-1 for a group that did not take part). Returns 1 on a match, else 0.
int CRE2_match(const CRE2_Regex *regex, const char *text, size_t length, int64_t *starts, int64_t *ends, int count);

#ifdef __cplusplus
}
#endif
#endif
