#pragma once
// Base64 (standard alphabet, padded) through OpenSSL's EVP_EncodeBlock.

#include <optional>
#include <string>
#include <string_view>

namespace nanokube::apiserver {

std::string base64Encode(std::string_view data);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace nanokube::apiserver
