//! The lab fleet: two systemd-nspawn nodes on this machine (`harness lab up|down|status`).
