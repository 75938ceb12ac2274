// `nanokube agent`: the node agent.
#include "cmd/commands.h"

namespace nanokube {

void addAgentCommand(CLI::App& app) {}

}  // namespace nanokube
