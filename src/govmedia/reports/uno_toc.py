"""Run by the system Python (Debian's python3-uno), never imported by govmedia: start LibreOffice
headless, open a DOCX hidden (read-only), update its indexes (the table of contents) so that LibreOffice lays
the document out, and print as JSON what Word's table of contents would show — each entry's text
and page — and the page count. The DOCX itself is not changed.

    /usr/bin/python3 uno_toc.py REPORT.docx file:///tmp/profile /usr/bin/soffice

The caller (govmedia.reports.office) gives the user profile directory, bounds the time and ends
the process group, LibreOffice included.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException


def _property(name, value):
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def main(path, profile_url, soffice):
    pipe = "govmedia-" + uuid.uuid4().hex
    office = subprocess.Popen(
        [soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
         "--nofirststartwizard", "-env:UserInstallation=" + profile_url,
         "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        while True:
            try:
                context = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
                break
            except NoConnectException:
                if office.poll() is not None:
                    raise SystemExit("LibreOffice 未能启动（退出码 %s）" % office.returncode)
                time.sleep(0.1)
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        url = uno.systemPathToFileUrl(os.path.abspath(path))
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (_property("Hidden", True), _property("ReadOnly", True)))
        if doc is None:
            raise SystemExit("LibreOffice 无法打开 " + path)
        try:
            # The report turns off the extra space between Chinese and Latin letters or digits
            # (w:autoSpaceDE/DN); LibreOffice 7.4 does not read that setting. Lay out as Word does.
            styles = doc.getStyleFamilies().getByName("ParagraphStyles")
            for name in styles.getElementNames():
                style = styles.getByName(name)
                if style.getPropertySetInfo().hasPropertyByName("ParaIsCharacterDistance"):
                    style.setPropertyValue("ParaIsCharacterDistance", False)
            indexes = doc.getDocumentIndexes()
            tables = [indexes.getByIndex(i) for i in range(indexes.getCount())]
            tables = [t for t in tables if t.supportsService("com.sun.star.text.ContentIndex")]
            # Twice: the first update may change the length of the table itself, and so the pages after it.
            for _ in range(2):
                for table in tables:
                    table.update()
                doc.refresh()
            entries = []
            if tables:
                for line in tables[0].getAnchor().getString().splitlines():
                    text, tab, page = line.rpartition("\t")
                    if tab and page.strip().isdigit():
                        entries.append([text.strip(), int(page)])
            pages = doc.getCurrentController().getPropertyValue("PageCount")
        finally:
            doc.close(True)
        json.dump({"entries": entries, "pages": pages}, sys.stdout, ensure_ascii=False)
        sys.stdout.flush()
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge closes as LibreOffice ends
            pass
        office.wait(30)
    finally:
        if office.poll() is None:
            office.kill()


if __name__ == "__main__":
    main(*sys.argv[1:4])
