#include "common/time.h"

#include <cstdio>
#include <ctime>

namespace nanokube {

std::string formatRfc3339(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string formatRfc3339Micro(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = formatRfc3339(secs);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(micros));
  base.pop_back();  // drop the 'Z'
  return base + frac;
}

std::optional<TimePoint> parseRfc3339(std::string_view s) {
  // Accepts YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
  std::tm tm{};
  int consumed = 0;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = timegm(&tm);
  TimePoint t = std::chrono::system_clock::from_time_t(secs);
  std::string_view rest = s.substr(consumed);
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    long long micros = 0;
    int digits = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (rest[i] - '0');
        ++digits;
      }
      ++i;
    }
    while (digits++ < 6) micros *= 10;
    t += std::chrono::microseconds(micros);
    rest = rest.substr(i);
  }
  if (rest == "Z" || rest == "z") return t;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int h = (rest[1] - '0') * 10 + (rest[2] - '0');
    int m = (rest[4] - '0') * 10 + (rest[5] - '0');
    auto off = std::chrono::hours(h) + std::chrono::minutes(m);
    return rest[0] == '+' ? t - off : t + off;
  }
  return std::nullopt;
}

}  // namespace nanokube
