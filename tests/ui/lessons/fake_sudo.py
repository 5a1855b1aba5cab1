"""Asks for a password the way sudo does: on /dev/tty, or says it has no terminal and fails."""

import sys

try:
    tty_in, tty_out = open("/dev/tty"), open("/dev/tty", "w")  # noqa: SIM115 - open until the process ends
except OSError:
    print("sudo: a terminal is required to read the password")
    sys.exit(1)
tty_out.write("[sudo] password for learner: ")
tty_out.flush()
answer = tty_in.readline()
print("got", len(answer.strip()), "characters")
