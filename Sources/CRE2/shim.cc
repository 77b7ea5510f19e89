#include "CRE2.h"

#include <re2/re2.h>

#include <cstring>
#include <string>
#include <vector>

struct CRE2_Regex {
    re2::RE2 *re;
    std::vector<std::string> names;   // index 0 unused; "" for an unnamed group
    std::vector<bool> named;
};

CRE2_Regex *CRE2_new(const char *pattern, size_t length, char *error, size_t errorCapacity, int *errorCode) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_encoding(re2::RE2::Options::EncodingUTF8);
    re2::RE2 *re = new re2::RE2(re2::StringPiece(pattern, length), options);
    if (!re->ok()) {
        if (error && errorCapacity > 0) {
            std::string message = re->error();
            size_t n = message.size() < errorCapacity - 1 ? message.size() : errorCapacity - 1;
            std::memcpy(error, message.data(), n);
            error[n] = 0;
        }
        if (errorCode) *errorCode = static_cast<int>(re->error_code());
        delete re;
        return nullptr;
    }
    CRE2_Regex *regex = new CRE2_Regex;
    regex->re = re;
    int count = re->NumberOfCapturingGroups();
    regex->names.assign(count + 1, std::string());
    regex->named.assign(count + 1, false);
    for (const auto &entry : re->CapturingGroupNames()) {
        if (entry.first > 0 && entry.first <= count) {
            regex->names[entry.first] = entry.second;
            regex->named[entry.first] = true;
        }
    }
    return regex;
}

void CRE2_delete(CRE2_Regex *regex) {
    if (!regex) return;
    delete regex->re;
    delete regex;
}

int CRE2_groupCount(const CRE2_Regex *regex) { return regex->re->NumberOfCapturingGroups(); }

const char *CRE2_groupName(const CRE2_Regex *regex, int index) {
    if (index < 1 || index >= static_cast<int>(regex->names.size()) || !regex->named[index]) return nullptr;
    return regex->names[index].c_str();
}

int CRE2_search(const CRE2_Regex *regex, const char *text, size_t length) {
    return regex->re->Match(re2::StringPiece(text, length), 0, length, re2::RE2::UNANCHORED, nullptr, 0) ? 1 : 0;
}

int CRE2_match(const CRE2_Regex *regex, const char *text, size_t length, int64_t *starts, int64_t *ends, int count) {
    re2::StringPiece input(text, length);
    // Small patterns (the usual case) use the stack; RE2 needs one StringPiece per group.
    re2::StringPiece stack[16];
    std::vector<re2::StringPiece> heap;
    re2::StringPiece *groups = stack;
    if (count > 16) {
        heap.resize(count);
        groups = heap.data();
    }
    if (!regex->re->Match(input, 0, length, re2::RE2::UNANCHORED, groups, count)) return 0;
    for (int i = 0; i < count; i++) {
        if (groups[i].data() == nullptr) {
            starts[i] = -1;
            ends[i] = -1;
        } else {
            starts[i] = groups[i].data() - text;
            ends[i] = starts[i] + static_cast<int64_t>(groups[i].size());
        }
    }
    return 1;
}
