#pragma once
// Subcommands that live in their own files; main.cc wires each in with one call.

#include <CLI/CLI.hpp>

namespace nanokube {

// `nanokube image import FILE... | ls | tag SOURCE TARGET | rm REF...`, each with
// `--store DIR`: the node's local image store (see src/kubelet/images/README.md).
// The commands run from CLI11 callbacks during parsing and report failure by throwing
// CLI::RuntimeError with the exit code, which CLI11_PARSE turns into main's return value.
void addImageCommands(CLI::App& app);

// `nanokube agent ...`: the node agent (src/kubelet/agent), run in the node's
// network namespace until SIGINT/SIGTERM.
void addAgentCommand(CLI::App& app);

// `nanokube cluster up|down|status` and `nanokube ps` (src/cluster): the local
// cluster of node namespaces on this machine.
void addClusterCommands(CLI::App& app);

// `nanokube token create --data-dir DIR`: a join token for an agent on another machine.
void addTokenCommands(CLI::App& app);

}  // namespace nanokube
