//! Advertised address: detecting this host's candidate IPv4 addresses and checking a given one.
