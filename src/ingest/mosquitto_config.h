// Mosquitto configuration for the registered devices (docs/ingestion.md): a password file with
// one account per device, and an ACL file that lets each device publish only to its own topic
// and the ingestion agent read them all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/device_registry.h"

namespace allmende::ingest {

// A password hash in Mosquitto 2's password-file form: "$7$101$<salt>$<hash>", PBKDF2-HMAC-SHA512
// with 101 iterations and a random 12-byte salt, both base64.
std::string mosquittoPasswordHash(std::string_view password);

// The broker account of a device: its mqtt username, else "<tenant>.<device>" ("@default" for
// the default tenant).
std::string mqttUsername(const store::DeviceRecord& d);

// "user:hash" lines of the devices with a password. Accounts whose name contains ':' or is
// taken by an earlier device are left out.
std::string mosquittoPasswordFile(const std::vector<store::Device>& devices);

// ACL: the agent (`agentUser`) reads `<prefix>/#`; each device writes `<prefix>/<tenant>/<device>`.
std::string mosquittoAclFile(const std::vector<store::Device>& devices, std::string_view agentUser,
                             std::string_view topicPrefix);

}  // namespace allmende::ingest
