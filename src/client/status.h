#pragma once
// The reverse of common/error.h's mapping: an API answer (HTTP code plus a
// Kubernetes Status body) back to an Error, so that callers branch on Code
// (kNotFound, kConflict, kGone, ...) whichever side made the error.

#include <optional>
#include <string_view>

#include "common/error.h"

namespace nanokube::client {

// The Code for a Status reason ("NotFound", "AlreadyExists", "Expired", ...);
// nullopt for a reason this client does not know.
std::optional<Code> codeFromReason(std::string_view reason);

// The Code for an HTTP status when no reason says better (409 is kConflict,
// other 4xx kBadRequest, other 5xx kInternal).
Code codeFromHttp(int httpStatus);

// An Error from a Status object (an error answer's body or an ERROR watch
// event's object): the code from its reason, else its code, else `httpStatus`;
// the message and details from the Status.
Error errorFromStatus(const Json& status, int httpStatus = 0);

// An Error from an HTTP answer that is not 2xx. A body that is not a Status
// (a proxy's HTML page, say) gives the code from the HTTP status and a message
// that quotes the start of the body.
Error errorFromResponse(int httpStatus, std::string_view body);

}  // namespace nanokube::client
