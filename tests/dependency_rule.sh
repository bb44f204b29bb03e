#!/bin/sh
# DESIGN.md: protocol cores and common/ stay pure. Fails if they include SimGrid.
root=${1:-.}
leaks=$(grep -rnE '#[[:space:]]*include[[:space:]]*[<"](simgrid|xbt)' "$root/protocols" "$root/common" "$root/reports" 2>/dev/null)
if [ -n "$leaks" ]; then
  echo "SimGrid included outside sim/ (DESIGN.md dependency rule):"
  echo "$leaks"
  exit 1
fi
echo "dependency rule holds: no SimGrid in common/, protocols/, reports/"
