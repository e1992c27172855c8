#include "core/http_date.hpp"

#include <array>
#include <ctime>
#include <stdexcept>

namespace vidup::core {
namespace {

// Fixed English names: IMF-fixdate never follows the locale (so no strftime %a / %b).
constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// "Wed, 25 Jun 2014 16:00:00 GMT"
//  0123456789012345678901234567 8
constexpr std::size_t kFixdateLength = 29;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void append_digits(std::string& out, int value, int width) {
  std::string digits(static_cast<std::size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out += digits;
}

// Exactly `width` ASCII digits, or nullopt.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t width) {
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

template <std::size_t N>
std::optional<int> index_of(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month0) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month0 == 1 && is_leap_year(year)) {
    return 29;
  }
  return kDays[static_cast<std::size_t>(month0)];
}

}  // namespace

std::string format_http_date(std::int64_t unix_ms) {
  const auto seconds = static_cast<std::time_t>(floor_div(unix_ms, 1000));
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
    throw std::out_of_range("format_http_date: time outside the years 0000-9999 of IMF-fixdate");
  }
  std::string out;
  out.reserve(kFixdateLength);
  out += kDayNames[static_cast<std::size_t>(tm.tm_wday)];
  out += ", ";
  append_digits(out, tm.tm_mday, 2);
  out += ' ';
  out += kMonthNames[static_cast<std::size_t>(tm.tm_mon)];
  out += ' ';
  append_digits(out, tm.tm_year + 1900, 4);
  out += ' ';
  append_digits(out, tm.tm_hour, 2);
  out += ':';
  append_digits(out, tm.tm_min, 2);
  out += ':';
  append_digits(out, tm.tm_sec, 2);
  out += " GMT";
  return out;
}

// Strict IMF-fixdate only (RFC 9110 §5.6.7): no obsolete RFC 850 / asctime forms, exact spacing,
// case-sensitive names, valid calendar date, and a day name that matches the date.
std::optional<std::int64_t> parse_http_date(std::string_view text) {
  if (text.size() != kFixdateLength || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  const std::optional<int> wday = index_of(kDayNames, text.substr(0, 3));
  const std::optional<int> day = read_digits(text, 5, 2);
  const std::optional<int> month0 = index_of(kMonthNames, text.substr(8, 3));
  const std::optional<int> year = read_digits(text, 12, 4);
  const std::optional<int> hour = read_digits(text, 17, 2);
  const std::optional<int> minute = read_digits(text, 20, 2);
  const std::optional<int> second = read_digits(text, 23, 2);
  if (!wday || !day || !month0 || !year || !hour || !minute || !second) {
    return std::nullopt;
  }
  if (*day < 1 || *day > days_in_month(*year, *month0) || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }

  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month0;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const std::time_t seconds = timegm(&tm);  // also fills tm_wday
  if (tm.tm_wday != *wday) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(seconds) * 1000;
}

}  // namespace vidup::core
