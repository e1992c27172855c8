#pragma once
// Protocol strings, named once. Handlers never spell these as literals.

#include <string_view>

namespace vidup::core {

inline constexpr std::string_view kTusVersion = "1.0.0";
inline constexpr std::string_view kOffsetOctetStream = "application/offset+octet-stream";

inline constexpr std::string_view kTusResumable = "Tus-Resumable";
inline constexpr std::string_view kTusVersionHeader = "Tus-Version";
inline constexpr std::string_view kTusExtension = "Tus-Extension";
inline constexpr std::string_view kTusMaxSize = "Tus-Max-Size";
inline constexpr std::string_view kTusChecksumAlgorithm = "Tus-Checksum-Algorithm";
inline constexpr std::string_view kUploadOffset = "Upload-Offset";
inline constexpr std::string_view kUploadLength = "Upload-Length";
inline constexpr std::string_view kUploadDeferLength = "Upload-Defer-Length";
inline constexpr std::string_view kUploadMetadata = "Upload-Metadata";
inline constexpr std::string_view kUploadExpires = "Upload-Expires";
inline constexpr std::string_view kUploadChecksum = "Upload-Checksum";
inline constexpr std::string_view kUploadConcat = "Upload-Concat";
inline constexpr std::string_view kMethodOverride = "X-HTTP-Method-Override";
inline constexpr std::string_view kLocation = "Location";
inline constexpr std::string_view kCacheControl = "Cache-Control";
inline constexpr std::string_view kContentType = "Content-Type";
inline constexpr std::string_view kContentLength = "Content-Length";
inline constexpr std::string_view kContentRange = "Content-Range";
inline constexpr std::string_view kContentDisposition = "Content-Disposition";
inline constexpr std::string_view kAcceptRanges = "Accept-Ranges";
inline constexpr std::string_view kRange = "Range";
inline constexpr std::string_view kAllow = "Allow";
inline constexpr std::string_view kTrailer = "Trailer";
inline constexpr std::string_view kNoSniff = "X-Content-Type-Options";

inline constexpr std::string_view kExtCreation = "creation";
inline constexpr std::string_view kExtCreationWithUpload = "creation-with-upload";
inline constexpr std::string_view kExtCreationDeferLength = "creation-defer-length";
inline constexpr std::string_view kExtExpiration = "expiration";
inline constexpr std::string_view kExtChecksum = "checksum";
inline constexpr std::string_view kExtChecksumTrailer = "checksum-trailer";
inline constexpr std::string_view kExtTermination = "termination";
inline constexpr std::string_view kExtConcatenation = "concatenation";
inline constexpr std::string_view kExtConcatenationUnfinished = "concatenation-unfinished";

}  // namespace vidup::core
