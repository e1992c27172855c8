// POST /v2/init (seed 004): a customer's backend, holding the API key, asks for an upload of a
// known size; we create the video and its tus upload and answer with the upload URL, which the
// browser then uses as tus-js-client's `uploadUrl`. The file never passes through the backend.
#include "api/platform_impl.hpp"

#include "auth/auth.hpp"
#include "core/headers.hpp"

#include <cctype>

namespace vidup::api {

namespace {

constexpr std::size_t kMaxId = 256;
constexpr std::size_t kMaxTitle = 512;
constexpr std::size_t kMaxFileField = 1024;

// Seed 004 sends no file type; the extension of common video files gives one, so that the
// source download and the upload's metadata carry it.
std::string filetype_from_name(std::string_view filename) {
  struct Known {
    std::string_view extension;
    std::string_view type;
  };
  constexpr Known kKnown[] = {
      {".mp4", "video/mp4"},   {".m4v", "video/x-m4v"},      {".mov", "video/quicktime"},
      {".webm", "video/webm"}, {".mkv", "video/x-matroska"}, {".avi", "video/x-msvideo"},
      {".mpg", "video/mpeg"},  {".mpeg", "video/mpeg"},      {".ts", "video/mp2t"},
      {".3gp", "video/3gpp"},  {".ogv", "video/ogg"},        {".wmv", "video/x-ms-wmv"},
  };
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) {
    return {};
  }
  std::string extension(filename.substr(dot));
  for (auto& c : extension) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const auto& k : kKnown) {
    if (extension == k.extension) {
      return std::string(k.type);
    }
  }
  return {};
}

}  // namespace

net::awaitable<Response> Platform::Impl::init(Request& request) {
  auto key = co_await authenticate(request);
  if (!key) {
    co_return error_of(key.error());
  }
  auto body = co_await read_json_object(request, options.max_json_body);
  if (!body) {
    co_return error_of(body.error());
  }
  Fields fields(*body);
  auto parent_id = fields.string("parent_id", true, kMaxId);
  auto type = fields.string("type", true, kMaxId);
  auto filename = fields.string("filename", true, kMaxFileField);
  auto title = fields.string("title", false, kMaxTitle);
  auto filesize = fields.count("filesize", true);
  auto filetype = fields.string("filetype", false, kMaxFileField, true);
  fields.string("client_ip", false, kMaxId, true);  // accepted for seed 004's clients; not used
  if (fields.failed()) {
    co_return fields.error();
  }
  if (*type != "video") {
    co_return error_response(Errc::invalid_field, "type must be \"video\"");
  }
  if (over_max_size(filesize)) {
    co_return error_response(Errc::max_size_exceeded);
  }
  auto project_id = co_await resolve_parent(*parent_id, key->project_id);
  if (!project_id) {
    co_return error_of(project_id.error());
  }

  store::Video video;
  video.id = auth::new_uuid();
  video.project_id = std::move(*project_id);
  video.parent_id = std::move(*parent_id);
  video.title = title.value_or(*filename);
  video.filename = *filename;
  video.filetype = filetype ? *filetype : filetype_from_name(video.filename);
  video.size = *filesize;
  video.created_at = video.updated_at = now_ms();
  if (auto inserted = co_await catalog.insert_video(video); !inserted) {
    co_return error_of(inserted.error());
  }

  core::UploadInfo draft;
  draft.size = *filesize;
  draft.metadata_raw = file_metadata(video.filename, video.filetype);
  if (auto parsed = core::parse_metadata(draft.metadata_raw)) {
    draft.metadata = std::move(*parsed);
  }
  draft.owner = video.id;
  auto upload = co_await tus.create_upload(std::move(draft));  // on_created attaches it
  if (!upload) {
    co_await catalog.delete_video(video.id);
    co_return error_of(upload.error());
  }
  auto stored = co_await catalog.get_video(video.id);
  if (stored && stored->upload_id.empty()) {
    // on_created could not attach it (logged there); try once more before giving up.
    if (!co_await catalog.attach_upload(video.id, upload->id, now_ms())) {
      stored = make_error_code(Errc::storage_error);
    }
  }
  if (!stored || (!stored->upload_id.empty() && stored->upload_id != upload->id)) {
    co_await tus.terminate_upload(upload->id);
    co_await catalog.delete_video(video.id);
    co_return error_response(Errc::storage_error);
  }

  const std::string endpoint = tus.upload_url(request.base_url, upload->id);
  json::object data;
  data["id"] = video.id;
  data["endpoint"] = endpoint;
  json::object out;
  out["data"] = std::move(data);
  Response r = json_response(201, out);
  r.headers.set(core::kLocation, endpoint);  // seed 004's option A, for backends that relay Location
  r.upload_id = upload->id;
  co_return r;
}

}  // namespace vidup::api
