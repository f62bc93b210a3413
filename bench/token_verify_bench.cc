// Bearer-token verification, which every call pays before its handler runs:
// ES256 with the cache of verified tokens off (the baseline: one signature
// verification per call), with the cache answering a token seen before (a
// client calling again with its token), and with the cache missing every
// time (a new token per call: the cache's own cost on top of the
// baseline). Prints a Markdown table of verifications per second and
// latency, each against the baseline with the same number of callers.
//
//   token_verify_bench [--seconds=3] [--warmup=0.5] [--out=FILE]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "common/auth/jwt.h"
#include "common/testing/test_tokens.h"

namespace {

using kosapo::auth::Principal;
using kosapo::auth::Role;
using kosapo::auth::TokenVerifier;
using kosapo::bench::Check;
using kosapo::testing::TestTokens;

// Tokens signed ahead, so the "miss" workload measures verifying, not
// signing; more than the cache holds, so cycling through them misses.
constexpr int kDistinctTokens = 20000;

std::unique_ptr<TokenVerifier> MakeVerifier(const TestTokens& tokens,
                                            size_t cache_entries) {
  kosapo::auth::VerifierOptions options;
  options.algorithm = kosapo::auth::Algorithm::kEs256;
  options.public_key_pem = tokens.public_key_pem();
  options.issuer = TestTokens::kIssuer;
  options.audience = TestTokens::kAudience;
  options.cache_entries = cache_entries;
  auto verifier = TokenVerifier::Create(options);
  kosapo::bench::CheckOk(verifier.status(), "verifier");
  return *std::move(verifier);
}

Principal Officer(int i) {
  Principal principal;
  principal.subject = absl::StrCat("user:bench-officer-", i);
  principal.role = Role::kWardOfficer;
  principal.municipality = "27100";
  principal.areas = {"27127"};
  return principal;
}

struct Row {
  std::string workload;
  int callers;
  kosapo::bench::LoadResult result;
};

}  // namespace

int main(int argc, char** argv) {
  kosapo::bench::Flags flags(
      argc, argv, {{"seconds", "3"}, {"warmup", "0.5"}, {"out", ""}});
  const absl::Duration duration = absl::Seconds(flags.Double("seconds"));
  const absl::Duration warmup = absl::Seconds(flags.Double("warmup"));

  auto tokens = TestTokens::Create();
  kosapo::bench::CheckOk(tokens.status(), "keys");
  const std::string one = (*tokens)->Sign(Officer(0));
  std::vector<std::string> many;
  many.reserve(kDistinctTokens);
  for (int i = 0; i < kDistinctTokens; ++i) {
    many.push_back((*tokens)->Sign(Officer(i)));
  }
  const size_t default_entries = kosapo::auth::VerifierOptions{}.cache_entries;
  Check(default_entries > 0 && default_entries < kDistinctTokens,
        "the default cache is smaller than the distinct tokens");

  auto verify = [](const TokenVerifier& verifier, const std::string& token) {
    auto principal = verifier.Verify(token, absl::Now());
    return principal.ok() ? std::string()
                          : std::string(principal.status().message());
  };
  std::vector<Row> rows;
  for (int callers : {1, 2}) {
    const auto uncached = MakeVerifier(**tokens, 0);
    rows.push_back({"no cache, the same token (baseline)", callers,
                    kosapo::bench::ClosedLoop(
                        callers, warmup, duration,
                        [&](int, int64_t) { return verify(*uncached, one); })});
    const auto cached = MakeVerifier(**tokens, default_entries);
    rows.push_back({"cache, the same token", callers,
                    kosapo::bench::ClosedLoop(
                        callers, warmup, duration,
                        [&](int, int64_t) { return verify(*cached, one); })});
    const auto missing = MakeVerifier(**tokens, default_entries);
    rows.push_back({"cache, a new token every call", callers,
                    kosapo::bench::ClosedLoop(
                        callers, warmup, duration, [&](int caller, int64_t i) {
                          return verify(
                              *missing,
                              many[(i * callers + caller) % kDistinctTokens]);
                        })});
  }

  std::string table = absl::StrCat(
      "ES256 verification of bearer tokens (", kosapo::bench::MachineLine(),
      "); the cache holds ", default_entries, " tokens.\n\n",
      "| workload | callers | verifications/s | p50 us | p99 us | ratio to "
      "baseline (verifications/s) | errors |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n");
  int64_t errors = 0;
  double baseline = 0;
  for (Row& row : rows) {
    if (row.workload.find("baseline") != std::string::npos) {
      baseline = row.result.PerSecond();
    }
    absl::StrAppendFormat(
        &table, "| %s | %d | %.0f | %.1f | %.1f | %.2f | %d |\n", row.workload,
        row.callers, row.result.PerSecond(), row.result.Millis(0.5) * 1000,
        row.result.Millis(0.99) * 1000,
        baseline > 0 ? row.result.PerSecond() / baseline : 0,
        row.result.errors);
    errors += row.result.errors;
    if (row.result.errors > 0) {
      std::fprintf(stderr, "%s: first error: %s\n", row.workload.c_str(),
                   row.result.first_error.c_str());
    }
  }
  kosapo::bench::Emit(flags.String("out"), table);
  Check(errors == 0, absl::StrCat(errors, " verifications failed"));
  return 0;
}
