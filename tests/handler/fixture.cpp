#include "fixture.hpp"

#include "core/base64.hpp"
#include "core/headers.hpp"

#include <array>

namespace vidup::test {

namespace {

net::awaitable<void> drive(handler::Handler& h, std::shared_ptr<InFlight> flight) {
  flight->response = co_await h.handle(flight->request);
}

std::shared_ptr<InFlight> make_flight(std::string method, std::string path, HeaderList headers, std::string body,
                                      FakeBodyOptions opts) {
  auto flight = std::make_shared<InFlight>();
  flight->body = std::make_unique<FakeBody>(std::move(body), std::move(opts));
  flight->request.method = std::move(method);
  flight->request.path = std::move(path);
  for (auto& [name, value] : headers) {
    flight->request.headers.add(std::move(name), std::move(value));
  }
  flight->request.base_url = std::string(kBaseUrl);
  flight->request.remote_addr = "192.0.2.1";
  flight->request.body = flight->body.get();
  return flight;
}

}  // namespace

std::string checksum_header(core::ChecksumAlgorithm algorithm, std::string_view algorithm_name, std::string_view data) {
  return std::string(algorithm_name) + " " + core::base64_encode(core::digest(algorithm, data));
}

HandlerFixture::HandlerFixture() {
  auto d = std::make_unique<store::MemoryDataStore>();
  auto i = std::make_unique<store::MemoryInfoStore>();
  auto l = std::make_unique<store::LocalLocker>();
  data = d.get();
  infos = i.get();
  locker = l.get();
  composer = std::make_unique<store::Composer>(std::move(d), std::move(i), std::move(l));
  composer->use_concater(data);
  composer->use_content_server(data);
  composer->use_length_deferrer(true);
  composer->use_terminater(true);
  rebuild();
}

void HandlerFixture::rebuild() {
  handler::Hooks h;
  h.created = [this](const core::UploadInfo& u) { hooks.created.push_back(u.id); };
  h.progress = [this](const core::UploadInfo& u) { hooks.progress.push_back(u.id); };
  h.finished = [this](const core::UploadInfo& u) { hooks.finished.push_back(u.id); };
  h.terminated = [this](const core::UploadInfo& u) { hooks.terminated.push_back(u.id); };
  handler = std::make_unique<handler::Handler>(config, *composer, [this] { return now_ms; }, std::move(h));
}

Response HandlerFixture::send(std::string method, std::string path, HeaderList headers, std::string body,
                              FakeBodyOptions opts) {
  auto flight = make_flight(std::move(method), std::move(path), std::move(headers), std::move(body), std::move(opts));
  return run(handler->handle(flight->request));
}

std::shared_ptr<InFlight> HandlerFixture::start(std::string method, std::string path, HeaderList headers,
                                                std::string body, FakeBodyOptions opts) {
  auto flight = make_flight(std::move(method), std::move(path), std::move(headers), std::move(body), std::move(opts));
  net::co_spawn(io, drive(*handler, flight), net::detached);
  return flight;
}

void HandlerFixture::run_until(const std::function<bool()>& done) {
  io.restart();
  while (!done()) {
    if (io.run_one() == 0) {
      break;
    }
  }
}

void HandlerFixture::run_all() {
  io.restart();
  io.run();
}

std::string HandlerFixture::id_from_location(std::string_view location) {
  const std::string prefix = absolute_url("");
  if (!location.starts_with(prefix)) {
    return {};
  }
  return std::string(location.substr(prefix.size()));
}

std::string HandlerFixture::create(std::uint64_t length, std::string_view metadata, HeaderList extra) {
  HeaderList headers{kTR, length_is(length)};
  if (!metadata.empty()) {
    headers.emplace_back("Upload-Metadata", std::string(metadata));
  }
  headers.insert(headers.end(), extra.begin(), extra.end());
  auto r = send("POST", "/files/", std::move(headers));
  EXPECT_EQ(r.status, 201u) << r.body;
  return id_from_location(hdr(r, "Location"));
}

std::string HandlerFixture::create_deferred(HeaderList extra) {
  HeaderList headers{kTR, {"Upload-Defer-Length", "1"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  auto r = send("POST", "/files/", std::move(headers));
  EXPECT_EQ(r.status, 201u) << r.body;
  return id_from_location(hdr(r, "Location"));
}

std::string HandlerFixture::create_partial(std::uint64_t length) {
  return create(length, {}, {{"Upload-Concat", "partial"}});
}

Response HandlerFixture::create_final(const std::vector<std::string>& partial_ids, HeaderList extra) {
  std::string concat = "final;";
  for (std::size_t i = 0; i < partial_ids.size(); ++i) {
    concat += (i == 0 ? "" : " ") + url(partial_ids[i]);
  }
  HeaderList headers{kTR, {"Upload-Concat", concat}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return send("POST", "/files/", std::move(headers));
}

std::string HandlerFixture::finished_partial(std::string_view content) {
  auto id = create_partial(content.size());
  if (!content.empty()) {
    auto r = patch(id, 0, std::string(content));
    EXPECT_EQ(r.status, 204u) << r.body;
  }
  return id;
}

Response HandlerFixture::patch(const std::string& id, std::uint64_t offset, std::string body, HeaderList extra,
                               FakeBodyOptions opts) {
  HeaderList headers{kTR, kOOS, offset_is(offset)};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return send("PATCH", url(id), std::move(headers), std::move(body), std::move(opts));
}

std::set<std::string> HandlerFixture::advertised_extensions() {
  auto r = options();
  std::set<std::string> out;
  if (auto v = r.headers.get("Tus-Extension")) {
    for (auto& t : tokens(*v)) {
      out.insert(t);
    }
  }
  return out;
}

std::string HandlerFixture::drain(Response& r) {
  std::string out;
  if (!r.content) {
    return out;
  }
  std::array<std::byte, 7> buf{};  // small on purpose: many reads
  for (;;) {
    auto n = run(r.content->read(buf));
    if (!n || *n == 0) {
      EXPECT_TRUE(n) << "content read failed";
      break;
    }
    out.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  return out;
}

std::optional<core::UploadInfo> HandlerFixture::record(const std::string& id) {
  auto r = run(infos->get(id));
  if (!r) {
    return std::nullopt;
  }
  return *r;
}

std::uint64_t HandlerFixture::offset_of(const std::string& id) {
  auto r = head(id);
  EXPECT_EQ(r.status, 200u) << r.body;
  return std::stoull(std::string(r.headers.get("Upload-Offset").value_or("0")));
}

}  // namespace vidup::test
