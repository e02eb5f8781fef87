// ProcessCredentials (credential_process) with small shell scripts in a temporary directory:
// the command line is split without a shell, the output parsed by the shared document parser,
// failures reported with the program and its status, a hanging program stopped in bounded time
// with no zombie and no orphan left, and an output cap.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/sources/process.hpp"
#include "support/local_endpoints_fixtures.hpp"

using mskiam::ErrorKind;
using mskiam::ProcessCredentials;
using local_endpoints_test::contains;
using local_endpoints_test::EnvGuard;
using local_endpoints_test::error_of;
using local_endpoints_test::TempDir;

namespace {

const std::string kSecret = "process-secret-wJalrXUtnFEMI";
const std::string kToken = "process-session-token-IQoJb3JpZ2lu";

std::string doc_with_expiration() {
  return R"({"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": ")" + kSecret +
         R"(", "SessionToken": ")" + kToken + R"(", "Expiration": "2030-01-01T00:00:00Z"})";
}

// A script that prints `output` on stdout (through a quoted here-document: no expansion).
std::string script(TempDir& dir, const std::string& name, const std::string& body) {
  return dir.write(name, "#!/bin/sh\n" + body + "\n", 0700);
}
std::string printing(TempDir& dir, const std::string& name, const std::string& output) {
  return script(dir, name, "cat <<'MSKIAM_EOF'\n" + output + "\nMSKIAM_EOF");
}

ProcessCredentials source(const std::string& command,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10),
                          std::size_t max_output = 64 * 1024) {
  ProcessCredentials::Options o;
  o.command = command;
  o.timeout = timeout;
  o.max_output = max_output;
  return ProcessCredentials(o);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The children of this test program (any state, zombies included), from /proc. Read without
// reaping anything: other tests in the same program may own children (the loopback fakes).
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');  // "pid (comm) state ppid ..."
    if (close == std::string::npos || close + 4 >= line.size()) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == self) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Records the children before a fetch; no_children_left() is true when none was added since.
struct ChildrenBefore {
  std::vector<pid_t> before = children();
  bool no_children_left() const { return children() == before; }
};

bool process_gone_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("process: command lines split on whitespace with double-quote grouping - no shell syntax") {
  using mskiam::detail::split_command_line;
  using V = std::vector<std::string>;
  CHECK(split_command_line("tool", "process") == V{"tool"});
  CHECK(split_command_line("  /usr/bin/tool  --a   b\t c\n", "process") == V{"/usr/bin/tool", "--a", "b", "c"});
  CHECK(split_command_line(R"(tool "a b" "")", "process") == V{"tool", "a b", ""});
  CHECK(split_command_line(R"(tool a"b c"d)", "process") == V{"tool", "ab cd"});
  CHECK(split_command_line(R"(tool "say \"hi\"" "back\\slash" "c:\dir")", "process") ==
        V{"tool", "say \"hi\"", "back\\slash", "c:\\dir"});
  CHECK(split_command_line(R"(tool it's back\slash)", "process") == V{"tool", "it's", "back\\slash"});
  CHECK(split_command_line("cmd; rm -rf / | x && $(y) `z` > f *", "process") ==
        V{"cmd;", "rm", "-rf", "/", "|", "x", "&&", "$(y)", "`z`", ">", "f", "*"});
  CHECK(split_command_line("'single quoted'", "process") == V{"'single", "quoted'"});
  for (const std::string& bad :
       std::vector<std::string>{"", "   ", "\t\n", "tool \"open", "\"\" arg", std::string("to\0ol", 5)}) {
    INFO(bad);
    const auto e = error_of([&] { split_command_line(bad, "process"); });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "process");
  }
  CHECK(contains(error_of([] { source("tool \"open"); }).message(), "unbalanced double quote"));
  CHECK(contains(error_of([] { source(""); }).message(), "credential_process is empty"));
}

TEST_CASE("process: a valid document with Expiration and SessionToken") {
  ChildrenBefore kids;
  TempDir dir;
  auto s = source(printing(dir, "creds.sh", doc_with_expiration()));
  CHECK(s.name() == "process");
  const auto c = s.fetch();
  CHECK(c.access_key_id == "AKIDPROCESS");
  CHECK(c.secret_access_key.reveal() == kSecret);
  CHECK(c.session_token.reveal() == kToken);
  REQUIRE(c.expiration);
  CHECK(mskiam::detail::iso8601(*c.expiration) == "2030-01-01T00:00:00Z");
  CHECK(c.source == "process");
  CHECK(c.principal.empty());
  CHECK(kids.no_children_left());
}

TEST_CASE("process: a valid document without Expiration never expires") {
  TempDir dir;
  const auto c = source(printing(dir, "static.sh",
                                 R"({"Version":1,"AccessKeyId":"AKIDSTATIC","SecretAccessKey":"s"})"))
                     .fetch();
  CHECK(c.access_key_id == "AKIDSTATIC");
  CHECK(c.session_token.empty());
  CHECK_FALSE(c.expiration);
}

TEST_CASE("process: arguments with a semicolon and $() and quotes reach the program literally - no shell runs") {
  TempDir dir;
  const std::string args = dir.path() + "/args";
  const std::string pwned = dir.path() + "/pwned";
  const std::string tool = script(dir, "args.sh",
                                  "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + args + "'\n"
                                  "printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIDARGS\",\"SecretAccessKey\":\"s\"}'");
  const auto c = source(tool + " \"a b\" c;d $(touch " + pwned + ") `touch " + pwned + "` \"x\\\"y\" ; touch " +
                        pwned + " && touch " + pwned)
                     .fetch();
  CHECK(c.access_key_id == "AKIDARGS");
  CHECK(read_lines(args) == std::vector<std::string>{"a b", "c;d", "$(touch", pwned + ")", "`touch",
                                                     pwned + "`", "x\"y", ";", "touch", pwned, "&&",
                                                     "touch", pwned});
  CHECK_FALSE(file_exists(pwned));
}

TEST_CASE("process: `cmd<semicolon> touch x` runs the program `cmd<semicolon>` - which does not exist") {
  ChildrenBefore kids;
  TempDir dir;
  const std::string pwned = dir.path() + "/pwned";
  const auto e = error_of([&] { source("cmd; touch " + pwned).fetch(); });
  CHECK(e.kind() == ErrorKind::process);
  CHECK(contains(e.message(), "cannot start credential_process \"cmd;\""));
  CHECK_FALSE(file_exists(pwned));
  CHECK(kids.no_children_left());
}

TEST_CASE("process: a bare program name is looked up in PATH - the environment is passed on") {
  TempDir dir;
  EnvGuard env;
  env.set("PATH", dir.path() + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"));
  env.set("MSKIAM_TEST_KEY_ID", "AKIDFROMENV");
  script(dir, "mskiam-cred-tool",
         "printf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"s\"}' \"$MSKIAM_TEST_KEY_ID\"");
  CHECK(source("mskiam-cred-tool --profile x").fetch().access_key_id == "AKIDFROMENV");
}

TEST_CASE("process: a non-zero exit is a process error naming the program and the status only") {
  ChildrenBefore kids;
  TempDir dir;
  const std::string tool = script(dir, "fail.sh",
                                  "echo 'stderr: secret hunter2-stderr' >&2\n"
                                  "printf '%s' '" + doc_with_expiration() + "'\nexit 3");
  const auto e = error_of([&] { source(tool + " --password hunter2-argument").fetch(); });
  CHECK(e.kind() == ErrorKind::process);
  CHECK(e.source() == "process");
  CHECK(e.code() == "3");
  CHECK(contains(e.message(), "credential_process \"" + tool + "\" exited with status 3"));
  CHECK_FALSE(contains(e.what(), "hunter2"));  // neither stderr nor the arguments
  CHECK_FALSE(contains(e.what(), kSecret));
  CHECK(kids.no_children_left());
}

TEST_CASE("process: a program killed by a signal is a process error") {
  TempDir dir;
  const auto e = error_of([&] { source(script(dir, "killed.sh", "kill -KILL $$")).fetch(); });
  CHECK(e.kind() == ErrorKind::process);
  CHECK(contains(e.message(), "was killed by signal 9"));
}

TEST_CASE("process: garbage output is bad_document and never quoted") {
  TempDir dir;
  const std::vector<std::string> outputs = {
      "hello", "", "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" + kSecret,
      R"({"AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"("})",
      R"({"Version":2,"AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"("})",
      R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"(","Expiration":"never"})",
      "AccessKeyId=A\nSecretAccessKey=" + kSecret};
  int n = 0;
  for (const auto& output : outputs) {
    INFO(output);
    const std::string tool = printing(dir, "garbage" + std::to_string(n++) + ".sh", output);
    const auto e = error_of([&] { source(tool).fetch(); });
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(contains(e.message(), "output of credential_process \"" + tool + "\": "));
    CHECK_FALSE(contains(e.what(), kSecret));
  }
}

TEST_CASE("process: stdin is /dev/null - a program reading it does not hang") {
  TempDir dir;
  const std::string tool = script(dir, "reads.sh",
                                  "if read line; then exit 7; fi\n"
                                  "printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIDSTDIN\",\"SecretAccessKey\":\"s\"}'");
  CHECK(source(tool, std::chrono::seconds(5)).fetch().access_key_id == "AKIDSTDIN");
}

TEST_CASE("process: a program that hangs is stopped at the timeout - with what it started - no zombie") {
  ChildrenBefore kids;
  TempDir dir;
  const std::string pidfile = dir.path() + "/child.pid";
  // Ignores SIGTERM (so SIGKILL is needed) and starts a grandchild that holds stdout open.
  const std::string tool = script(dir, "hang.sh",
                                  "trap '' TERM\nsleep 30 &\necho $! > '" + pidfile + "'\nwait\nwait");
  const auto start = std::chrono::steady_clock::now();
  const auto e = error_of([&] { source(tool, std::chrono::milliseconds(300)).fetch(); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(e.kind() == ErrorKind::timeout);
  CHECK(e.source() == "process");
  CHECK(contains(e.message(), "credential_process \"" + tool + "\" did not finish within 300 ms"));
  CHECK(elapsed >= std::chrono::milliseconds(300));
  CHECK(elapsed < std::chrono::seconds(3));  // timeout + kill grace + slack
  CHECK(kids.no_children_left());
  const auto lines = read_lines(pidfile);
  REQUIRE(lines.size() == 1);
  CHECK(process_gone_within(static_cast<pid_t>(std::stol(lines[0])), std::chrono::seconds(2)));
}

TEST_CASE("process: a program that closes stdout but does not exit is stopped at the timeout") {
  ChildrenBefore kids;
  TempDir dir;
  const std::string tool =
      script(dir, "lingers.sh",
             "printf '%s' '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}'\nexec >&-\nexec sleep 30");
  const auto start = std::chrono::steady_clock::now();
  const auto e = error_of([&] { source(tool, std::chrono::milliseconds(300)).fetch(); });
  CHECK(e.kind() == ErrorKind::timeout);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(kids.no_children_left());
}

TEST_CASE("process: output larger than the cap is bad_document and the program is stopped") {
  ChildrenBefore kids;
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  auto e = error_of([&] { source(script(dir, "yes.sh", "exec yes"), std::chrono::seconds(10), 1024).fetch(); });
  CHECK(e.kind() == ErrorKind::bad_document);
  CHECK(contains(e.message(), "printed more than 1024 bytes and was stopped"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(kids.no_children_left());
  // Exactly at the cap is fine as far as the cap goes (then the JSON must be valid).
  const std::string doc = R"({"Version":1,"AccessKeyId":"AKIDCAP","SecretAccessKey":"s"})";
  CHECK(source(script(dir, "exact.sh", "printf '%s' '" + doc + "'"), std::chrono::seconds(5), doc.size())
            .fetch()
            .access_key_id == "AKIDCAP");
  e = error_of([&] {
    source(script(dir, "over2.sh", "printf '%s ' '" + doc + "'"), std::chrono::seconds(5), doc.size()).fetch();
  });
  CHECK(e.kind() == ErrorKind::bad_document);
}

TEST_CASE("process: a missing or non-executable program is a process error") {
  ChildrenBefore kids;
  TempDir dir;
  auto e = error_of([&] { source(dir.path() + "/does-not-exist --flag").fetch(); });
  CHECK(e.kind() == ErrorKind::process);
  CHECK(contains(e.message(), "cannot start credential_process \"" + dir.path() + "/does-not-exist\""));
  const std::string not_exec = dir.write("plain.sh", "#!/bin/sh\necho {}\n", 0600);
  e = error_of([&] { source(not_exec).fetch(); });
  CHECK(e.kind() == ErrorKind::process);
  CHECK(contains(e.message(), "Permission denied"));
  CHECK(kids.no_children_left());
}

TEST_CASE("process: the timeout and the output cap must be positive") {
  ProcessCredentials::Options o;
  o.command = "/bin/true";
  o.timeout = std::chrono::milliseconds(0);
  CHECK(error_of([&] { ProcessCredentials{o}; }).kind() == ErrorKind::invalid_argument);
  o.timeout = std::chrono::seconds(1);
  o.max_output = 0;
  CHECK(error_of([&] { ProcessCredentials{o}; }).kind() == ErrorKind::invalid_argument);
  CHECK(ProcessCredentials::Options{}.timeout == std::chrono::seconds(30));
  CHECK(ProcessCredentials::Options{}.max_output == 64 * 1024);
}

TEST_CASE("process: the zombie check of these tests sees an unreaped child") {
  ChildrenBefore kids;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(kids.no_children_left());  // a zombie until reaped
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(kids.no_children_left());
}

TEST_CASE("process: with SIGCHLD ignored by the application the exit status is lost: a clear error") {
  TempDir dir;
  const std::string ok = printing(dir, "ok.sh", R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"s"})");
  const std::string hang = script(dir, "hang.sh", "exec sleep 30");
  struct sigaction ignore {}, saved{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGCHLD, &ignore, &saved);
  const auto e = error_of([&] { source(ok).fetch(); });
  const auto start = std::chrono::steady_clock::now();
  const auto t = error_of([&] { source(hang, std::chrono::milliseconds(200)).fetch(); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::sigaction(SIGCHLD, &saved, nullptr);
  CHECK(e.kind() == ErrorKind::process);
  CHECK(contains(e.message(), "cannot collect the exit status"));
  CHECK(t.kind() == ErrorKind::timeout);
  CHECK(elapsed < std::chrono::seconds(3));
}
