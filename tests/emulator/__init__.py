"""Tests of the sandbox server (the local DigitalOcean API emulator) over real sockets."""
