#!/usr/bin/env bash
# Debian packages the project needs besides Python ones, installed once:
#   chromium         real browser for the web tests (Playwright drives Debian's Chromium; its own download
#                    does not work on machines without general internet access)
#   fonts-noto-cjk   Chinese glyphs in the browser, the charts, the Word/PDF reports
#   libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0   WeasyPrint (HTML -> PDF reports)
#   poppler-utils    pdftotext/pdftoppm/pdffonts, used by the report tests to read the PDF back
#   libreoffice-writer-nogui   lays the Word report out once (headless) so its table of contents has page numbers
#   python3-uno      lets the system Python drive that LibreOffice (update the indexes, save as DOCX)
# Runs apt-get only when something is missing; needs root (or sudo) the first time.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
/usr/bin/python3 -c 'import uno' >/dev/null 2>&1 || missing+=(python3-uno)
for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    case "$lib" in
      libpango-1.0.so.0) missing+=(libpango-1.0-0) ;;
      libpangoft2-1.0.so.0) missing+=(libpangoft2-1.0-0) ;;
      libharfbuzz-subset.so.0) missing+=(libharfbuzz-subset0) ;;
    esac
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "安装系统依赖 (installing Debian packages): ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "需要 root 权限安装: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
