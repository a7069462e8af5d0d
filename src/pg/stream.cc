#include "pg/stream.h"

#include <libpq-fe.h>
#include <sys/select.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "base/json_fields.h"
#include "pg/lineage.h"

namespace lifeboat::pg {

namespace {

// Microseconds since 2000-01-01, PostgreSQL's epoch, for status messages.
int64_t PgNow() {
  return NowNanos() / 1000 - kPostgresEpochMicros;
}

// libpq's messages end with newlines and sometimes span lines: keep the first line.
std::string FirstLine(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

uint64_t BigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void PutBigEndian64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

const char* StreamStateName(StreamProgress::State s) {
  switch (s) {
    case StreamProgress::State::kRunning: return "running";
    case StreamProgress::State::kReconnecting: return "reconnecting";
    case StreamProgress::State::kStopped: return "stopped";
    case StreamProgress::State::kFailed: return "failed";
  }
  return "running";
}

nlohmann::json StreamProgress::ToJson() const {
  return {{"state", StreamStateName(state)}, {"pid", pid},          {"host", host},
          {"port", port},                    {"timeline", timeline}, {"segment", segment},
          {"flushed", FormatLsn(flushed)},   {"stored_at", stored_at}, {"error", error}};
}

Result<StreamProgress> StreamProgress::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  StreamProgress p;
  std::string flushed;
  constexpr State kStates[] = {State::kRunning, State::kReconnecting, State::kStopped, State::kFailed};
  LB_RETURN_IF_ERROR(f.Enum("state", kStates, &StreamStateName, "a streamer state", &p.state));
  LB_RETURN_IF_ERROR(f.Int("pid", &p.pid));
  LB_RETURN_IF_ERROR(f.Int("port", &p.port));
  LB_RETURN_IF_ERROR(f.Uint32("timeline", &p.timeline));
  LB_RETURN_IF_ERROR(f.String("host", &p.host));
  LB_RETURN_IF_ERROR(f.String("segment", &p.segment));
  LB_RETURN_IF_ERROR(f.String("flushed", &flushed));
  LB_RETURN_IF_ERROR(f.String("stored_at", &p.stored_at));
  LB_RETURN_IF_ERROR(f.String("error", &p.error));
  Result<Lsn> lsn = ParseLsn(flushed);
  if (!lsn.ok()) return f.Bad("flushed", "an LSN");
  p.flushed = *lsn;
  return p;
}

namespace {

class Streamer {
 public:
  Streamer(Repository& repo, const ClusterConfig& cluster, const StreamOptions& options,
           const std::atomic<bool>& stop)
      : repo_(repo), cluster_(cluster), options_(options), stop_(stop), archive_(&repo) {}

  Result<StreamStats> Run() {
    double backoff = 0.5;
    while (!stop_.load()) {
      Status s = Session();
      if (stop_.load()) break;
      if (!s.ok()) {
        // A repository failure or another cluster cannot be fixed by reconnecting.
        if (s.code() == Code::kUsage || s.code() == Code::kCorruption || s.code() == Code::kNoSpace) {
          return s;
        }
        Log("stream interrupted: " + s.message() + "; reconnecting in " + FormatDuration(backoff));
        Report(StreamProgress::State::kReconnecting, s.message());
        ++stats_.reconnects;
        for (double waited = 0; waited < backoff && !stop_.load(); waited += 0.1) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        backoff = std::min(backoff * 2, 10.0);
      } else {
        backoff = 0.5;
      }
    }
    // Whatever arrived last reaches the repository before we go.
    if (have_data_) LB_RETURN_IF_ERROR(UploadPartial(/*allow_delta=*/false));
    return stats_;
  }

 private:
  void Log(const std::string& line) {
    if (options_.log) options_.log(line);
  }

  void Report(StreamProgress::State state, const std::string& error) {
    if (!options_.progress) return;
    StreamProgress p;
    p.state = state;
    p.host = cluster_.conn.host;
    p.port = cluster_.conn.port;
    p.timeline = timeline_;
    p.segment = segment_size_ != 0 ? Segment() : "";
    p.flushed = stats_.flushed;
    p.stored_at = stored_at_;
    p.error = error;
    options_.progress(p);
  }

  std::string Segment() const { return FormatSegmentName(timeline_, segno_, segment_size_); }

  // Stores what has arrived of the current segment. A delta ("<segment>.partial.<offset>",
  // only the bytes since the last upload) is small and fast, which matters when every commit
  // waits for it (synchronous mode); the whole partial segment is rewritten at least every
  // flush interval, and the deltas it covers are deleted.
  Status UploadPartial(bool allow_delta) {
    bool delta = allow_delta && uploaded_ > 0 && filled_ > uploaded_ && deltas_.size() < 256 &&
                 MonotonicSeconds() - last_base_upload_ < options_.flush_interval_seconds;
    if (delta) {
      char suffix[16];
      std::snprintf(suffix, sizeof(suffix), ".%08X", static_cast<unsigned>(uploaded_));
      std::string name = Segment() + ".partial" + suffix;
      LB_RETURN_IF_ERROR(repo_.PutNamed(kWalStream, name, ByteSpan(buffer_.data() + uploaded_, filled_ - uploaded_)));
      deltas_.push_back(name);
    } else {
      LB_RETURN_IF_ERROR(repo_.PutNamed(kWalStream, Segment() + ".partial", ByteSpan(buffer_.data(), filled_)));
      LB_RETURN_IF_ERROR(DropDeltas());
      last_base_upload_ = MonotonicSeconds();
    }
    uploaded_ = filled_;
    ++stats_.partial_uploads;
    stats_.flushed = segno_ * segment_size_ + filled_;
    stored_at_ = FormatIso8601(NowNanos(), true);
    Report(StreamProgress::State::kRunning, "");
    dirty_ = false;
    last_upload_ = MonotonicSeconds();
    return Status::Ok();
  }

  Status DropDeltas() {
    for (const std::string& d : deltas_) LB_RETURN_IF_ERROR(repo_.DeleteNamed(kWalStream, d));
    deltas_.clear();
    return Status::Ok();
  }

  Status CompleteSegment() {
    std::string name = Segment();
    Result<Bytes> existing = repo_.GetNamed(kWalStream, name);
    if (!existing.ok()) {
      if (existing.status().code() != Code::kNotFound) return existing.status();
      LB_RETURN_IF_ERROR(repo_.PutNamed(kWalStream, name, buffer_));
      Log("stored " + name);
      if (options_.segment_stored) options_.segment_stored(name, buffer_);
    }
    LB_RETURN_IF_ERROR(repo_.DeleteNamed(kWalStream, name + ".partial"));
    LB_RETURN_IF_ERROR(DropDeltas());
    uploaded_ = 0;
    ++stats_.segments_stored;
    stats_.flushed = (segno_ + 1) * segment_size_;
    ++segno_;
    filled_ = 0;
    have_data_ = false;
    dirty_ = false;
    std::memset(buffer_.data(), 0, buffer_.size());
    return Status::Ok();
  }

  Status Receive(uint64_t start, const char* data, size_t len) {
    while (len > 0) {
      uint64_t segno = start / segment_size_;
      if (!have_data_ || segno != segno_) {
        if (have_data_ && segno != segno_) {
          return Status::IO("WAL jumped from " + Segment() + " to position " + FormatLsn(start));
        }
        segno_ = segno;
        have_data_ = true;
      }
      uint64_t offset = start % segment_size_;
      size_t n = static_cast<size_t>(std::min<uint64_t>(len, segment_size_ - offset));
      std::memcpy(buffer_.data() + offset, data, n);
      filled_ = std::max<uint64_t>(filled_, offset + n);
      dirty_ = true;
      start += n;
      data += n;
      len -= n;
      if (filled_ == segment_size_) LB_RETURN_IF_ERROR(CompleteSegment());
    }
    return Status::Ok();
  }

  Status SendStatus(PGconn* conn, bool reply_requested) {
    char msg[34];
    msg[0] = 'r';
    uint64_t received = have_data_ ? segno_ * segment_size_ + filled_ : stats_.flushed;
    PutBigEndian64(msg + 1, received);
    PutBigEndian64(msg + 9, stats_.flushed);  // flushed = in the repository
    PutBigEndian64(msg + 17, stats_.flushed);
    PutBigEndian64(msg + 25, static_cast<uint64_t>(PgNow()));
    msg[33] = reply_requested ? 1 : 0;
    if (PQputCopyData(conn, msg, sizeof(msg)) <= 0 || PQflush(conn) != 0) {
      return Status::IO(std::string("cannot send status to the primary: ") + FirstLine(PQerrorMessage(conn)));
    }
    return Status::Ok();
  }

  Status Session() {
    ConnInfo info = cluster_.conn;
    info.replication = true;
    info.application_name = options_.application_name;
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(info));
    LB_ASSIGN_OR_RETURN(Rows ident, conn->Query("IDENTIFY_SYSTEM"));
    uint64_t sysid = std::strtoull(ident.Get(0, 0).c_str(), nullptr, 10);
    LB_RETURN_IF_ERROR(archive_.BindCluster(sysid));
    timeline_ = static_cast<uint32_t>(std::strtoul(ident.Get(0, 1).c_str(), nullptr, 10));
    // The streamer reads production (the caller resolves which cluster that is).
    LB_RETURN_IF_ERROR(Lineage(&repo_).MarkProduction(timeline_, TimelineOrigin::kProduction, "", ""));
    LB_ASSIGN_OR_RETURN(Lsn server_pos, ParseLsn(ident.Get(0, 2)));
    if (segment_size_ == 0) {
      LB_ASSIGN_OR_RETURN(std::string size, conn->QueryValue("SHOW wal_segment_size"));
      segment_size_ = std::strtoull(size.c_str(), nullptr, 10) << (size.find("MB") != std::string::npos ? 20 : 0);
      if (segment_size_ == 0) segment_size_ = kDefaultSegmentSize;
      buffer_.assign(segment_size_, 0);
    }
    Result<Rows> created = conn->Query("CREATE_REPLICATION_SLOT " + QuoteIdent(options_.slot) + " PHYSICAL RESERVE_WAL");
    if (!created.ok() && created.status().message().find("already exists") == std::string::npos) {
      return created.status();
    }
    LB_ASSIGN_OR_RETURN(Rows slot, conn->Query("READ_REPLICATION_SLOT " + QuoteIdent(options_.slot)));
    Lsn start = server_pos;
    if (!slot.empty() && slot.rows[0][1]) {
      LB_ASSIGN_OR_RETURN(start, ParseLsn(*slot.rows[0][1]));
    }
    // Resume where the repository's copy ends; a segment always starts from its beginning.
    if (have_data_ && segno_ * segment_size_ + filled_ >= start) start = segno_ * segment_size_;
    start -= start % segment_size_;
    if (!have_data_ || start / segment_size_ != segno_) {
      have_data_ = false;
      filled_ = 0;
      uploaded_ = 0;
      std::memset(buffer_.data(), 0, buffer_.size());
    }
    std::string cmd = "START_REPLICATION SLOT " + QuoteIdent(options_.slot) + " PHYSICAL " + FormatLsn(start) +
                      " TIMELINE " + std::to_string(timeline_);
    PGresult* res = PQexec(conn->raw(), cmd.c_str());
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
      std::string msg = PQresultErrorMessage(res);
      PQclear(res);
      return Status::IO("cannot start streaming from " + conn->Where() + ": " + msg);
    }
    PQclear(res);
    Log("streaming from " + FormatLsn(start) + " on timeline " + std::to_string(timeline_));
    return Loop(conn->raw());
  }

  Status Loop(PGconn* conn) {
    int sock = PQsocket(conn);
    double last_status = 0;
    while (!stop_.load()) {
      char* buf = nullptr;
      int n = PQgetCopyData(conn, &buf, 1);
      if (n == 0) {
        // Nothing buffered: upload what is pending, then wait for the socket.
        if (dirty_ && (options_.synchronous || MonotonicSeconds() - last_upload_ >= options_.flush_interval_seconds)) {
          LB_RETURN_IF_ERROR(UploadPartial(/*allow_delta=*/options_.synchronous));
          LB_RETURN_IF_ERROR(SendStatus(conn, false));
          last_status = MonotonicSeconds();
        }
        if (MonotonicSeconds() - last_status > 10) {
          LB_RETURN_IF_ERROR(SendStatus(conn, false));
          last_status = MonotonicSeconds();
        }
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(sock, &fds);
        double wait = dirty_ ? std::max(0.0, options_.flush_interval_seconds - (MonotonicSeconds() - last_upload_)) : 1.0;
        if (options_.synchronous && dirty_) wait = 0;
        struct timeval tv {static_cast<time_t>(wait), static_cast<suseconds_t>((wait - static_cast<double>(static_cast<time_t>(wait))) * 1e6)};
        if (select(sock + 1, &fds, nullptr, nullptr, &tv) < 0 && errno != EINTR) {
          return Status::IO("waiting for the primary failed");
        }
        if (PQconsumeInput(conn) == 0) return Status::IO(std::string("connection lost: ") + FirstLine(PQerrorMessage(conn)));
        continue;
      }
      if (n == -1) {
        PGresult* res = PQgetResult(conn);
        std::string msg = res ? PQresultErrorMessage(res) : "";
        PQclear(res);
        return Status::IO("the primary ended the stream" + (msg.empty() ? std::string() : ": " + msg));
      }
      if (n == -2) return Status::IO(std::string("connection lost: ") + FirstLine(PQerrorMessage(conn)));
      Status s;
      if (buf[0] == 'w' && n >= 25) {
        s = Receive(BigEndian64(buf + 1), buf + 25, static_cast<size_t>(n - 25));
      } else if (buf[0] == 'k' && n >= 18) {
        if (buf[17]) {
          if (dirty_) s = UploadPartial(/*allow_delta=*/options_.synchronous);
          if (s.ok()) s = SendStatus(conn, false);
          last_status = MonotonicSeconds();
        }
      }
      PQfreemem(buf);
      LB_RETURN_IF_ERROR(s);
    }
    PQputCopyEnd(conn, nullptr);
    return Status::Ok();
  }

  Repository& repo_;
  const ClusterConfig& cluster_;
  const StreamOptions& options_;
  const std::atomic<bool>& stop_;
  std::string stored_at_;  // ISO 8601 of the last upload
  WalArchive archive_;
  StreamStats stats_;
  uint32_t timeline_ = 1;
  uint64_t segment_size_ = 0;
  uint64_t segno_ = 0;
  uint64_t filled_ = 0;
  bool have_data_ = false;
  bool dirty_ = false;
  double last_upload_ = 0;
  double last_base_upload_ = 0;
  uint64_t uploaded_ = 0;             // bytes of the current segment in the repository
  std::vector<std::string> deltas_;   // delta objects stored since the last whole partial
  Bytes buffer_;
};

}  // namespace

Result<StreamStats> StreamWal(Repository& repo, const ClusterConfig& cluster,
                              const StreamOptions& options, const std::atomic<bool>& stop) {
  return Streamer(repo, cluster, options, stop).Run();
}

}  // namespace lifeboat::pg
