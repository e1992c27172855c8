#pragma once
// One function per `vidup` subcommand; each returns the process exit code.

namespace vidup::app {

int serve_command(int argc, const char* const* argv);
// vidup keys create|list|revoke: API keys in <data>/vidup.db.
int keys_command(int argc, const char* const* argv);
// vidup projects create|list: the projects keys and videos belong to.
int projects_command(int argc, const char* const* argv);
// vidup upload FILE... --endpoint URL: resumable tus uploads (exit codes in docs/client.md).
int upload_command(int argc, const char* const* argv);
// vidup sign --api-key K --video-id ID: presigned upload headers.
int sign_command(int argc, const char* const* argv);

}  // namespace vidup::app
