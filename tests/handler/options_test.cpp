// §3 OPTIONS (OPT-01..07) and the discovery headers: Tus-Version (H-VER-*), Tus-Extension
// (H-EXT-*, and the "advertise" rule of every extension), Tus-Max-Size (H-MAX-01/02) and
// Tus-Checksum-Algorithm (H-CKA-*). Extensions are switched off through handler::Config or the
// Composer's capabilities.
#include "fixture.hpp"

#include <algorithm>
#include <cctype>

namespace vidup::test {
namespace {

class Options : public HandlerFixture {
 protected:
  // Every feature off.
  void switch_everything_off() {
    config.creation = false;
    config.creation_with_upload = false;
    config.defer_length = false;
    config.expiration = false;
    config.checksum = false;
    config.checksum_trailer = false;
    config.termination = false;
    config.concatenation = false;
    config.concatenation_unfinished = false;
    rebuild();
  }
  bool advertises(std::string_view token) { return advertised_extensions().contains(std::string(token)); }
};

const std::set<std::string> kKnownExtensions = {
    "creation", "creation-with-upload", "creation-defer-length", "expiration", "checksum", "checksum-trailer",
    "termination", "concatenation", "concatenation-unfinished"};

TEST_F(Options, OPT_01_OptionsWithoutTusResumableDiscoversTheConfiguration) {
  auto r = options("/files/", {});
  EXPECT_TRUE(r.status == 200u || r.status == 204u) << r.status;
  EXPECT_TRUE(r.headers.has("Tus-Version"));
  EXPECT_TRUE(r.headers.has("Tus-Extension"));
  r = options("/files", {});  // the collection without its trailing slash
  EXPECT_TRUE(r.status == 200u || r.status == 204u) << r.status;
}

TEST_F(Options, OPT_02_PlainOptionsIs204AndAPreflightIs200) {
  auto r = options();
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");
  EXPECT_TRUE(r.body.empty());
  r = options("/files/", {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "PATCH"}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");
}

TEST_F(Options, OPT_03_ExtensionsAndMaxSizeArePresentWhenConfigured) {
  EXPECT_FALSE(options().headers.has("Tus-Max-Size"));
  config.max_size = 1000;
  rebuild();
  auto r = options();
  EXPECT_EQ(hdr(r, "Tus-Max-Size"), "1000");
  EXPECT_TRUE(r.headers.has("Tus-Extension"));
}

TEST_F(Options, OPT_04_WithChecksumOptionsListsTheAlgorithms) {
  EXPECT_TRUE(options().headers.has("Tus-Checksum-Algorithm"));
}

TEST_F(Options, OPT_05_TusResumableIsIgnoredOnOptions) {
  for (const char* version : {"9.9.9", "0.2.2", "", "1.0.0"}) {
    SCOPED_TRACE(version);
    auto r = options("/files/", {{"Tus-Resumable", version}});
    EXPECT_EQ(r.status, 204u);
    EXPECT_EQ(hdr(r, "Tus-Version"), "1.0.0");
  }
}

TEST_F(Options, EDGE_16_OptionsWithABogusVersionIsNot412) {
  auto r = options("/files/", {{"Tus-Resumable", "bogus"}, {"Tus-Resumable", "again"}});
  EXPECT_NE(r.status, 412u);
  EXPECT_NE(r.status, 400u);
}

TEST_F(Options, OPT_06_OptionsAlsoCarriesTusResumable) {
  EXPECT_EQ(hdr(options(), "Tus-Resumable"), "1.0.0");
}

TEST_F(Options, OPT_07_OptionsOnAnUploadUrlAnswersLikeTheCollectionEvenForUnknownIds) {
  const auto id = create(5);
  const auto collection = options();
  for (const std::string& path : std::vector<std::string>{url(id), url(kUnknownId), std::string("/files/not-an-id")}) {
    SCOPED_TRACE(path);
    auto r = options(path);
    EXPECT_EQ(r.status, collection.status);
    for (const char* h : {"Tus-Version", "Tus-Extension", "Tus-Checksum-Algorithm", "Tus-Resumable"}) {
      EXPECT_EQ(hdr(r, h), hdr(collection, h)) << h;
    }
  }
}

TEST_F(Options, H_VER_01_TusVersionListsOurVersionFirst) {
  auto versions = tokens(hdr(options(), "Tus-Version"));
  ASSERT_FALSE(versions.empty());
  EXPECT_EQ(versions.front(), "1.0.0");
}

TEST_F(Options, H_VER_02_EverySuccessfulOptionsHasTusVersion) {
  switch_everything_off();
  EXPECT_EQ(hdr(options(), "Tus-Version"), "1.0.0");
}

TEST_F(Options, H_EXT_01_TusExtensionIsACommaSeparatedListOfKnownTokens) {
  const auto ext = hdr(options(), "Tus-Extension");
  const auto list = tokens(ext);
  ASSERT_FALSE(list.empty());
  for (const auto& t : list) {
    EXPECT_TRUE(kKnownExtensions.contains(t)) << "'" << t << "' in " << ext;
  }
  EXPECT_EQ(std::set<std::string>(list.begin(), list.end()).size(), list.size()) << "no duplicates: " << ext;
  EXPECT_EQ(ext.find(' '), std::string::npos) << ext;
}

TEST_F(Options, H_EXT_02_WithNoExtensionTusExtensionIsOmittedNotEmpty) {
  switch_everything_off();
  auto r = options();
  EXPECT_FALSE(r.headers.has("Tus-Extension")) << hdr(r, "Tus-Extension");
  EXPECT_FALSE(r.headers.has("Tus-Checksum-Algorithm"));
}

TEST_F(Options, H_EXT_03_EveryImplementedExtensionIsAdvertised) {
  EXPECT_EQ(advertised_extensions(), kKnownExtensions);
}

TEST_F(Options, H_EXT_03_ADisabledExtensionIsNotAdvertisedAndNotServed) {
  struct Switch {
    const char* token;
    std::function<void(handler::Config&)> off;
  };
  const std::vector<Switch> switches = {
      {"creation-with-upload", [](auto& c) { c.creation_with_upload = false; }},
      {"creation-defer-length", [](auto& c) { c.defer_length = false; }},
      {"expiration", [](auto& c) { c.expiration = false; }},
      {"checksum-trailer", [](auto& c) { c.checksum_trailer = false; }},
      {"termination", [](auto& c) { c.termination = false; }},
      {"concatenation-unfinished", [](auto& c) { c.concatenation_unfinished = false; }},
  };
  const auto all = config;
  for (const auto& s : switches) {
    SCOPED_TRACE(s.token);
    config = all;
    s.off(config);
    rebuild();
    auto ext = advertised_extensions();
    EXPECT_FALSE(ext.contains(s.token));
    EXPECT_EQ(ext.size(), kKnownExtensions.size() - 1);
  }
  config = all;
  config.checksum = false;  // checksum-trailer needs checksum
  rebuild();
  EXPECT_FALSE(advertises("checksum"));
  EXPECT_FALSE(advertises("checksum-trailer"));
  config.expiration = true;
  config.expiry = std::chrono::milliseconds(0);  // nothing ever expires
  rebuild();
  EXPECT_FALSE(advertises("expiration"));

  // Termination off: not advertised, and DELETE is not a 204.
  config = all;
  config.termination = false;
  rebuild();
  const auto id = create(5);
  auto r = del(id);
  EXPECT_EQ(r.status, 405u);
  const auto allow = tokens(hdr(r, "Allow"));
  EXPECT_EQ(std::count(allow.begin(), allow.end(), "DELETE"), 0) << hdr(r, "Allow");
  EXPECT_EQ(head(id).status, 200u);
}

TEST_F(Options, H_EXT_03_CapabilitiesTheStoresLackAreNotAdvertised) {
  composer->use_terminater(false);
  composer->use_length_deferrer(false);
  composer->use_concater(nullptr);
  auto ext = advertised_extensions();
  for (const char* t : {"termination", "creation-defer-length", "concatenation", "concatenation-unfinished"}) {
    EXPECT_FALSE(ext.contains(t)) << t;
  }
  EXPECT_TRUE(ext.contains("creation"));
  const auto id = create(5);
  EXPECT_EQ(del(id).status, 405u);
  EXPECT_EQ(send("POST", "/files/", {kTR, {"Upload-Defer-Length", "1"}}).status, 400u);  // CDL-10
}

TEST_F(Options, H_EXT_04_CreationWithUploadIsNeverOfferedWithoutCreation) {
  config.creation = false;
  rebuild();
  auto ext = advertised_extensions();
  EXPECT_FALSE(ext.contains("creation"));
  EXPECT_FALSE(ext.contains("creation-with-upload"));
  // Without creation, nothing can create an upload.
  auto r = send("POST", "/files/", {kTR, length_is(5)});
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(infos->count(), 0u);
}

TEST_F(Options, CWU_02_CreationWithUploadIsNotOfferedWithoutCreation) {
  config.creation = false;
  config.creation_with_upload = true;
  rebuild();
  EXPECT_FALSE(advertises("creation-with-upload"));
}

TEST_F(Options, H_MAX_01_TusMaxSizeIsANonNegativeInteger) {
  config.max_size = 12345;
  rebuild();
  const auto v = hdr(options(), "Tus-Max-Size");
  EXPECT_FALSE(v.empty());
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) << v;
}

TEST_F(Options, H_MAX_02_AKnownLimitIsAdvertised) {
  config.max_size = 1ULL << 30;
  rebuild();
  EXPECT_EQ(hdr(options(), "Tus-Max-Size"), "1073741824");
}

TEST_F(Options, H_CKA_01_TusChecksumAlgorithmIsACommaSeparatedList) {
  const auto list = tokens(hdr(options(), "Tus-Checksum-Algorithm"));
  EXPECT_EQ(list, (std::vector<std::string>{"sha1", "md5", "sha256", "crc32"}));
}

TEST_F(Options, H_CKA_02_TusChecksumAlgorithmIsPresentExactlyWhenChecksumIsOn) {
  EXPECT_TRUE(options().headers.has("Tus-Checksum-Algorithm"));
  config.checksum = false;
  rebuild();
  EXPECT_FALSE(options().headers.has("Tus-Checksum-Algorithm"));
}

TEST_F(Options, H_CKA_03_Sha1IsSupported) {
  const auto list = tokens(hdr(options(), "Tus-Checksum-Algorithm"));
  EXPECT_NE(std::find(list.begin(), list.end(), "sha1"), list.end());
}

TEST_F(Options, H_CKA_04_AlgorithmNamesAreAsciiWithoutUpperCase) {
  for (const auto& name : tokens(hdr(options(), "Tus-Checksum-Algorithm"))) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(name.empty());
    for (char c : name) {
      EXPECT_TRUE(c >= 0x21 && c <= 0x7e);
      EXPECT_FALSE(std::isupper(static_cast<unsigned char>(c)));
    }
  }
}

// "Advertise X if supported", one test per extension.
TEST_F(Options, POST_01_CreationIsAdvertised) { EXPECT_TRUE(advertises("creation")); }
TEST_F(Options, CWU_01_CreationWithUploadIsAdvertised) { EXPECT_TRUE(advertises("creation-with-upload")); }
TEST_F(Options, CDL_01_CreationDeferLengthIsAdvertised) { EXPECT_TRUE(advertises("creation-defer-length")); }
TEST_F(Options, EXP_01_ExpirationIsAdvertised) { EXPECT_TRUE(advertises("expiration")); }
TEST_F(Options, CK_01_ChecksumIsAdvertised) { EXPECT_TRUE(advertises("checksum")); }
TEST_F(Options, CK_08_Sha1IsSupported) {
  const auto list = tokens(hdr(options(), "Tus-Checksum-Algorithm"));
  EXPECT_NE(std::find(list.begin(), list.end(), "sha1"), list.end());
}
TEST_F(Options, CK_09_TusChecksumAlgorithmIsInTheOptionsResponse) {
  EXPECT_TRUE(options().headers.has("Tus-Checksum-Algorithm"));
}
TEST_F(Options, CKT_01_ChecksumTrailerIsAdvertised) { EXPECT_TRUE(advertises("checksum-trailer")); }
TEST_F(Options, CKT_05_ChecksumTrailerCanBeSwitchedOffForStacksThatDropTrailers) {
  config.checksum_trailer = false;
  rebuild();
  EXPECT_FALSE(advertises("checksum-trailer"));
  EXPECT_TRUE(advertises("checksum"));
}
TEST_F(Options, DEL_01_TerminationIsAdvertised) { EXPECT_TRUE(advertises("termination")); }
TEST_F(Options, CAT_01_ConcatenationIsAdvertised) { EXPECT_TRUE(advertises("concatenation")); }
TEST_F(Options, CATU_01_ConcatenationUnfinishedIsAdvertisedOnlyWhenOn) {
  EXPECT_TRUE(advertises("concatenation-unfinished"));
  config.concatenation_unfinished = false;
  rebuild();
  EXPECT_FALSE(advertises("concatenation-unfinished"));
  EXPECT_TRUE(advertises("concatenation"));
}

}  // namespace
}  // namespace vidup::test
