// Protobuf's deterministic serialisation, for bytes that are hashed (content
// hashes for deduplication, the audit chain). Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_COMMON_DETERMINISTIC_H_
#define SWITCHBOARD_GATEWAY_COMMON_DETERMINISTIC_H_

#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"

namespace switchboard::gateway {

inline std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&out);
  }
  return bytes;
}

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_COMMON_DETERMINISTIC_H_
