"""Compile the gettext catalogues (.po -> .mo) whenever the package is built or installed."""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogues(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root) / "portal" / "translations"
        for po_path in root.glob("*/LC_MESSAGES/messages.po"):
            with po_path.open("rb") as fh:
                catalogue = read_po(fh, locale=po_path.parent.parent.name)
            with po_path.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalogue)
