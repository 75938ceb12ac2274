// `nanokube cluster up|down|status` and `nanokube ps`.
#include "cmd/commands.h"

namespace nanokube {

void addClusterCommands(CLI::App& app) {}

}  // namespace nanokube
