#include <gtest/gtest.h>

#include <array>
#include <cerrno>

#include "base/bytes.h"
#include "base/process.h"
#include "base/status.h"
#include "base/time.h"

namespace lifeboat {
namespace {

TEST(StatusTest, ExitCodesFollowTheDocumentedTable) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status::Usage("x")), 1);
  EXPECT_EQ(ExitCodeFor(Status::Config("x")), 1);
  EXPECT_EQ(ExitCodeFor(Status::WrongPassphrase("x")), 1);
  EXPECT_EQ(ExitCodeFor(Status::IO("x")), 2);
  EXPECT_EQ(ExitCodeFor(Status::NoSpace("x")), 2);
  EXPECT_EQ(ExitCodeFor(Status::Busy("x")), 2);
  EXPECT_EQ(ExitCodeFor(Status::Corruption("x")), 3);
  EXPECT_EQ(ExitCodeFor(Status::Verification("x")), 3);
}

TEST(StatusTest, ContextPrefixesAndKeepsCodeAndHint) {
  Status s = Status::IO("disk gone", "replace it").Context("cannot write 'x'");
  EXPECT_EQ(s.message(), "cannot write 'x': disk gone");
  EXPECT_EQ(s.hint(), "replace it");
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_TRUE(Status::Ok().Context("ignored").ok());
}

TEST(StatusTest, ErrnoIsTranslatedInLowerCase) {
  Status s = ErrnoStatus("cannot write '/r/x'", ENOSPC);
  EXPECT_EQ(s.code(), Code::kNoSpace);
  EXPECT_EQ(s.message(), "cannot write '/r/x': no space left on device");
  EXPECT_EQ(ErrnoStatus("a", ENOENT).code(), Code::kNotFound);
  EXPECT_EQ(ErrnoStatus("a", EACCES).code(), Code::kIO);
}

TEST(HexTest, RoundTripsAndRejectsMalformedInput) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "00abff");
  Bytes out;
  ASSERT_TRUE(HexDecode("00ABff", &out));
  EXPECT_EQ(out, b);
  EXPECT_FALSE(HexDecode("abc", &out));
  EXPECT_FALSE(HexDecode("zz", &out));
  EXPECT_TRUE(out.empty());

  std::array<uint8_t, 3> fixed{};
  ASSERT_TRUE(HexDecodeInto("00ABff", fixed));
  EXPECT_EQ(Bytes(fixed.begin(), fixed.end()), b);
  EXPECT_FALSE(HexDecodeInto("00ab", fixed));      // too short for the span
  EXPECT_FALSE(HexDecodeInto("00abff00", fixed));  // too long
  EXPECT_FALSE(HexDecodeInto("00ab-f", fixed));
}

TEST(ByteReaderTest, ReportsTruncationInsteadOfReadingPastTheEnd) {
  Bytes b;
  ByteWriter w(&b);
  w.U32(0xdeadbeef);
  w.U64(42);
  ByteReader r(b);
  EXPECT_EQ(r.U32(), 0xdeadbeefu);
  EXPECT_EQ(r.U64(), 42u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.U8(), 0);
  EXPECT_FALSE(r.ok());
}

TEST(TimeTest, ParsesIso8601WithZonesAndFractions) {
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimestamp("2026-11-29T03:10:00Z"), int64_t{1795921800} * 1'000'000'000);
  EXPECT_EQ(*ParseTimestamp("2026-11-29T03:10:00.25Z"),
            int64_t{1795921800} * 1'000'000'000 + 250'000'000);
  EXPECT_EQ(*ParseTimestamp("2026-11-29T04:10:00+01:00"), *ParseTimestamp("2026-11-29T03:10:00Z"));
  // PostgreSQL's own output format.
  EXPECT_EQ(*ParseTimestamp("2026-11-29 03:10:00.5+00"),
            int64_t{1795921800} * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(*ParseTimestamp("2026-11-28 22:10:00-05"), *ParseTimestamp("2026-11-29T03:10:00Z"));
}

TEST(TimeTest, RefusesAmbiguousOrInvalidTimes) {
  Result<UnixNanos> r = ParseTimestamp("2026-11-29T03:10:00");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "invalid time '2026-11-29T03:10:00': missing zone (append Z for UTC)");
  EXPECT_EQ(ExitCodeFor(r.status()), 1);
  EXPECT_FALSE(ParseTimestamp("2026-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("yesterday").ok());
  EXPECT_FALSE(ParseTimestamp("2026-11-29T03:10:00Zjunk").ok());
}

TEST(TimeTest, FormatsUtc) {
  EXPECT_EQ(FormatIso8601(int64_t{1795921800} * 1'000'000'000), "2026-11-29T03:10:00Z");
  EXPECT_EQ(FormatIso8601(int64_t{1795921800} * 1'000'000'000 + 1500, true),
            "2026-11-29T03:10:00.000001Z");
}

}  // namespace
}  // namespace lifeboat

namespace lifeboat {
namespace {

TEST(AlignedBufferTest, StartsAtTheAlignmentAndMoves) {
  AlignedBuffer a(10000, 4096);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 4096, 0u);
  EXPECT_EQ(a.size(), 10000u);
  a.span()[9999] = 7;
  AlignedBuffer b = std::move(a);
  EXPECT_EQ(b.span()[9999], 7);
  EXPECT_EQ(b.size(), 10000u);
}

}  // namespace
}  // namespace lifeboat

namespace lifeboat {
namespace {

// RunProcess's input reaches the child's stdin beside its output (more than a pipe holds, so
// neither side can wait for the other), and a child that never reads it is not a SIGPIPE here.
TEST(ProcessTest, InputReachesStdinAndAChildThatIgnoresItIsNoSigpipe) {
  ProcessOptions o;
  o.input = "hello\n";
  Result<ProcessResult> small = RunProcess({"/bin/cat"}, o);
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(small->out, "hello\n");
  EXPECT_EQ(small->exit_code, 0);
  o.input.assign(4 << 20, 'x');
  Result<ProcessResult> big = RunProcess({"/bin/cat"}, o);
  ASSERT_TRUE(big.ok()) << big.status().message();
  EXPECT_EQ(big->out.size(), 4u << 20);
  EXPECT_EQ(big->out, o.input);
  Result<ProcessResult> deaf = RunProcess({"/bin/true"}, o);
  ASSERT_TRUE(deaf.ok()) << deaf.status().message();
  EXPECT_EQ(deaf->exit_code, 0);
  Result<ProcessResult> none = RunProcess({"/bin/cat"}, ProcessOptions{});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->out, "");  // stdin is /dev/null
}

}  // namespace
}  // namespace lifeboat
