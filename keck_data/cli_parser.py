"""argparse in German: usage, help headings and error messages ("Diese Angaben fehlen: --level")."""
from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

_MESSAGES = [  # argparse's English messages → German
    (r"the following arguments are required: (.*)", r"Diese Angaben fehlen: \1"),
    (r"unrecognized arguments: (.*)", r"Unbekannte Angaben: \1"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"Angabe \1: ungültige Auswahl \2 (möglich: \3)"),
    (r"argument (\S+): expected one argument", r"Angabe \1: braucht einen Wert"),
    (r"argument (\S+): expected at least one argument", r"Angabe \1: braucht mindestens einen Wert"),
    (r"argument (\S+): invalid int value: (.*)", r"Angabe \1: \2 ist keine ganze Zahl"),
    (r"argument (\S+): invalid float value: (.*)", r"Angabe \1: \2 ist keine Zahl"),
    (r"argument (\S+): not allowed with argument (.*)", r"Angabe \1: nicht zusammen mit \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"Mehrdeutige Angabe \1: passt zu \2"),
    (r"argument (\S+): (.*)", r"Angabe \1: \2"),
]
_HEADINGS = [("usage: ", "Aufruf: "), ("\noptions:\n", "\nOptionen:\n"),
             ("\npositional arguments:\n", "\nArgumente:\n"), ("show this help message and exit",
                                                                  "diese Hilfe anzeigen und beenden")]


def german(message: str) -> str:
    """An argparse error message in German (unknown messages stay as they are)."""
    for pattern, replacement in _MESSAGES:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


class GermanParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help and errors are German (sub-commands inherit the class)."""

    def format_usage(self) -> str:
        return _german_headings(super().format_usage())

    def format_help(self) -> str:
        return _german_headings(super().format_help())

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: Fehler: {german(message)}\n")


def _german_headings(text: str) -> str:
    for english, german_text in _HEADINGS:
        text = text.replace(english, german_text)
    return text
