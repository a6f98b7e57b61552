"""`vpce-doctor fleet REPORT...`: many nodes' reports in one view, grouped by AZ and subnet,
so that "ecr.dkr fails only in AZ c" jumps out. Reads the same JSON the agent writes."""
from __future__ import annotations

import html
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ..core.text import printable, printable_data
from .fleet_fixes import FixGroups
from .report_file import ReportFileError, read_report, schema_notice, summarize

PROBLEM = ("warn", "critical", "unknown")


@dataclass
class Fleet:
    nodes: List[Dict[str, Any]] = field(default_factory=list)  # one per report
    skipped: List[str] = field(default_factory=list)  # files that are not reports, with why
    notes: List[str] = field(default_factory=list)  # reports read with a caveat (another schema version)
    fixes: FixGroups = field(default_factory=FixGroups)  # each fix once, with the nodes it concerns

    def services(self) -> List[str]:
        seen: "OrderedDict[str, None]" = OrderedDict()
        for node in self.nodes:
            for service in node["services"]:
                seen[service] = None
        return list(seen)

    def groups(self, key: str) -> List[str]:
        return sorted({n[key] or "?" for n in self.nodes})

    def cell(self, service: str, key: str, value: str) -> Tuple[int, int, List[str]]:
        """(nodes with a problem, nodes that checked the service, finding codes) in one group."""
        bad, total, codes = 0, 0, []
        for node in self.nodes:
            if (node[key] or "?") != value or service not in node["services"]:
                continue
            total += 1
            status, found = node["services"][service]
            if status in PROBLEM:
                bad += 1
                codes += [c for c in found if c not in codes]
        return bad, total, codes

    def headlines(self) -> List[str]:
        """Services whose failures follow an AZ or a subnet: every node there fails, none elsewhere."""
        lines = []
        for service in self.services():
            failing = [n for n in self.nodes if n["services"].get(service, ("ok", []))[0] in PROBLEM]
            if not failing:
                continue
            checked = [n for n in self.nodes if service in n["services"]]
            if len(failing) == len(checked):
                lines.append("%s fails on every node (%d)" % (service, len(checked)))
                continue
            failing_ids = {id(n) for n in failing}  # a set: `n not in failing` was quadratic at 10,000 nodes
            for key, label in (("availability_zone", "AZ"), ("subnet_id", "subnet")):
                bad_groups = {n[key] for n in failing}
                clean = [n for n in checked if n[key] in bad_groups and id(n) not in failing_ids]
                if not clean:
                    elsewhere = len(checked) - sum(1 for n in checked if n[key] in bad_groups)
                    lines.append("%s fails only in %s %s: %d/%d nodes there, 0/%d elsewhere" % (
                        service, label, ", ".join(sorted(g or "?" for g in bad_groups)), len(failing),
                        len(failing), elsewhere))
                    break
            else:
                lines.append("%s fails on %d of %d nodes, in no AZ or subnet pattern" % (
                    service, len(failing), len(checked)))
        return lines

    def to_dict(self) -> Dict[str, Any]:
        return {
            "nodes": self.nodes,
            "skipped": self.skipped,
            "notes": self.notes,
            "headlines": self.headlines(),
            "by_az": {s: {az: dict(zip(("failing", "nodes", "codes"), self.cell(s, "availability_zone", az)))
                          for az in self.groups("availability_zone")} for s in self.services()},
            "by_subnet": {s: {sn: dict(zip(("failing", "nodes", "codes"), self.cell(s, "subnet_id", sn)))
                              for sn in self.groups("subnet_id")} for s in self.services()},
            "fixes": self.fixes.groups(),
        }


def _paths(inputs: Iterable[str]) -> List[str]:
    out = []
    for item in inputs:
        if os.path.isdir(item):
            out += sorted(os.path.join(root, name) for root, _, names in os.walk(item) for name in names
                          if name.endswith(".json"))
        else:
            out.append(item)
    return out


# Reading 10,000 reports is mostly JSON parsing, and nine tenths of a report are probe details
# the summary never reads. Reports the agent writes (indent=2) have their top-level keys at two
# spaces and each service's keys at six; newlines inside JSON strings are escaped, so these byte
# patterns only ever match structure. The skeleton drops node_checks, checks and each service's
# probes before parsing; anything that does not look exactly like that is parsed whole.
_TOP_TAIL = '\n  "node_checks": '
_PROBES = '\n      "probes": '
_NEXT_KEY = '\n      "checks": '
_SERVICE_ID = '\n      "id": '


def _skeleton(raw: str) -> Optional[Tuple[str, int]]:
    """(the report without its probe details, how many services it holds) or None."""
    cut = raw.find(_TOP_TAIL)
    if cut < 0:
        return None
    head = raw[:cut].rstrip()
    if not head.endswith(","):
        return None
    head = head[:-1]
    parts, pos, cuts = [], 0, 0
    while True:
        start = head.find(_PROBES, pos)
        if start < 0:
            break
        end = head.find(_NEXT_KEY, start)
        if end < 0:
            return None
        parts += [head[pos:start], '\n      "probes": {},']
        pos = end
        cuts += 1
    if head.count(_PROBES) != cuts:
        return None  # a cut ran past its service's checks over another service's probes
    parts += [head[pos:], "\n}"]
    return "".join(parts), head.count(_SERVICE_ID)


def _loads(text: str) -> Any:
    """json.loads of the report's skeleton when it has the agent's layout, else of the whole text."""
    found = _skeleton(text)
    if found is not None:
        try:
            report = json.loads(found[0])
        except ValueError:
            report = None  # not the agent's layout after all: parse it whole
        # a cut that ran into the next service swallows its id: fewer services than ids written
        services = report.get("services") if isinstance(report, dict) else None
        if isinstance(services, list) and len(services) == found[1]:
            return report
    return json.loads(text)


def _shared(pool: Dict[Any, Any], services: Dict[str, Any]) -> Dict[str, Any]:
    try:
        key = tuple((sid, status, tuple(codes)) for sid, (status, codes) in services.items())
        return pool.setdefault(key, services)
    except TypeError:  # an unhashable value in a malformed report: keep its own copy
        return services


def load(inputs: Iterable[str], transform: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
         rename: Callable[[str], str] = lambda path: path) -> Fleet:
    """Every readable report; a file that is not one is skipped with its reason, never fatal.
    `transform` rewrites each report and `rename` each file name (--redact: S3 syncs name
    the files after the instance id)."""
    fleet = Fleet()
    # Most nodes of a fleet report the same outcomes: one shared copy per distinct outcome keeps
    # memory at a few hundred bytes per node (the summary only reads these, never writes them).
    shared: Dict[Any, Any] = {}
    for real_path in _paths(inputs):
        path = rename(real_path)
        try:
            raw = read_report(real_path, loads=_loads)
        except ReportFileError as exc:
            fleet.skipped.append("%s: %s" % (path, exc))
            continue
        if transform is not None:
            raw = transform(raw)
        notice = schema_notice(raw)
        if notice:
            fleet.notes.append("%s: %s" % (path, notice))
        report = summarize(raw)
        node = report["node"]
        services: Dict[str, Tuple[Optional[str], List[str]]] = {}
        for s in report["services"]:
            services.setdefault(s["id"], (s["status"], s["findings"]))
        fleet.nodes.append({
            "file": path,
            "instance_id": node["instance_id"] or os.path.basename(path),
            "availability_zone": node["availability_zone"],
            "subnet_id": node["subnet_id"],
            "region": node["region"],
            "vpc_id": node["vpc_id"],
            "generated_at": report["generated_at"],
            "status": report["status"],
            "node_findings": [f["code"] for f in report["findings"] if not f["service"]],
            "services": _shared(shared, services),
            # services a hub VPC's endpoint answers (centralised endpoints): working, and shown as such
            "remote": [s["id"] for s in report["services"] if _answered_remote(s["raw"])],
        })
        fleet.fixes.add(fleet.nodes[-1], report["findings"])
    return fleet


def _answered_remote(service: Dict[str, Any]) -> bool:
    if service.get("vpc_dns_scope"):
        return service["vpc_dns_scope"] == "remote"
    # reports written before vpc_dns_scope: read the VPC resolver's answers themselves
    probes = service.get("probes") if isinstance(service.get("probes"), dict) else {}
    lookups = [d for d in probes.get("dns") or [] if isinstance(d, dict) and d.get("resolver_role") == "vpc"
               and d.get("hostname") == service.get("hostname") and d.get("rdtype") == "A"]
    return any(isinstance(a, dict) and a.get("scope") == "remote" for d in lookups
               for a in d.get("addresses") or [])


def _shown(fleet: Fleet) -> Fleet:
    """The fleet with every value printable: text and HTML show ids and paths from reports
    that anyone could have written (JSON output stays exact)."""
    shown: Dict[int, Any] = {}  # nodes share their services' outcomes (_shared): escape each once, keep sharing

    def node(n: Dict[str, Any]) -> Dict[str, Any]:
        services = n["services"]
        if id(services) not in shown:
            shown[id(services)] = printable_data(services)
        return dict(printable_data({k: v for k, v in n.items() if k != "services"}), services=shown[id(services)])

    return Fleet(nodes=[node(n) for n in fleet.nodes], skipped=[printable(s) for s in fleet.skipped],
                 notes=[printable(n) for n in fleet.notes])


def _cell_text(bad: int, total: int) -> str:
    return "-" if total == 0 else ("ok %d" % total if bad == 0 else "%d/%d" % (bad, total))


def _reach(group: Dict[str, Any]) -> str:
    """fixes 12 nodes in 3 subnets (us-east-1a, us-east-1b)"""
    return "fixes %d node%s in %d subnet%s (%s)" % (
        group["nodes"], "" if group["nodes"] == 1 else "s", len(group["subnets"]),
        "" if len(group["subnets"]) == 1 else "s", ", ".join(group["azs"]))


def _where(group: Dict[str, Any]) -> str:
    """' in vpc-...' unless the fix's own words name the VPC already."""
    vpc = group["vpc_id"] or "?"
    return "" if vpc in group["what"] else " in %s" % vpc


def _caveats(group: Dict[str, Any]) -> str:
    said = (["others differ in detail"] if group["texts_differ"] else []) + \
        (["its commands with every node's subnet, one per AZ"] if group["commands_merged"] else [])
    return " (%s)" % "; ".join(said) if said else ""


def _fix_lines(index: int, group: Dict[str, Any]) -> List[str]:
    more = group["nodes"] - len(group["instances"])
    lines = ["%d. [%s] %s%s: %s" % (index, (group["severity"] or "?").upper(), group["what"], _where(group),
                                    _reach(group)),
             "   findings: %s" % ", ".join(group["findings"]),
             "   subnets: %s" % ", ".join(group["subnets"]),
             "   nodes: %s%s" % (", ".join(group["instances"]), " (+%d more)" % more if more > 0 else ""),
             "   fix, as %s reports it%s: %s" % (group["example"], _caveats(group), group["text"])]
    return lines + ["     $ %s" % command for command in group["commands"]]


def render_text(fleet: Fleet) -> str:
    fixes = printable_data(fleet.fixes.groups())
    fleet = _shown(fleet)
    azs = fleet.groups("availability_zone")
    out = ["vpce-doctor fleet: %d node(s), %d report(s) skipped" % (len(fleet.nodes), len(fleet.skipped)), ""]
    out += ["! " + line for line in fleet.headlines()] or ["no service fails on any node"]
    out.append("")
    rows = [["SERVICE"] + azs + ["FINDINGS"]]
    for service in fleet.services():
        cells = [fleet.cell(service, "availability_zone", az) for az in azs]
        codes = sorted({c for _, _, found in cells for c in found})
        rows.append([service] + [_cell_text(b, t) for b, t, _ in cells] + [", ".join(codes) or "-"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    out += ["", "(cells: nodes failing / nodes in that AZ; 'ok N': all N fine)", "", "NODES"]
    for node in sorted(fleet.nodes, key=lambda n: (n["availability_zone"] or "", n["instance_id"])):
        failing = [s for s, (status, _) in node["services"].items() if status in PROBLEM]
        out.append("  %-20s %-12s %-26s %-8s %s" % (node["instance_id"], node["availability_zone"] or "?",
                                                   node["subnet_id"] or "?", node["status"],
                                                   ", ".join(failing + node["node_findings"]) or "-")
                   + ("  remote: %s" % ", ".join(node["remote"]) if node.get("remote") else ""))
    if fixes:
        out += ["", "FIXES, EACH ONCE FOR THE NODES IT CONCERNS"]
    for index, group in enumerate(fixes, 1):
        out += [""] + _fix_lines(index, group)
    for note in fleet.notes:
        out.append("note: %s" % note)
    for skipped in fleet.skipped:
        out.append("skipped %s" % skipped)
    return "\n".join(out) + "\n"


def render_json(fleet: Fleet) -> str:
    return json.dumps(fleet.to_dict(), indent=2) + "\n"


def _fixes_html(fixes: List[Dict[str, Any]]) -> str:
    esc = html.escape
    rows = []
    for group in fixes:
        more = group["nodes"] - len(group["instances"])
        how = "<details><summary>how, as %s reports it%s</summary><p>%s</p>%s</details>" % (
            esc(group["example"]), esc(_caveats(group)), esc(group["text"]),
            "<pre>%s</pre>" % esc("\n".join(group["commands"])) if group["commands"] else "")
        rows.append('<tr><td class="sev-%s">%s</td><td><strong>%s</strong>%s: %s%s</td><td>%s</td><td class="ids">%s</td>'
                    '<td>%s%s</td></tr>' % (
                        esc(group["severity"] or "?"), esc((group["severity"] or "?").upper()), esc(group["what"]),
                        esc(_where(group)), esc(_reach(group)), how,
                        "<br>".join("<code>%s</code>" % esc(f) for f in group["findings"]),
                        "<br>".join(esc(s) for s in group["subnets"]), esc(", ".join(group["instances"])),
                        " (+%d more)" % more if more > 0 else ""))
    if not rows:
        return "<p>no finding on any node</p>"
    return ("<table><tr><th>severity</th><th>fix</th><th>findings</th><th>subnets</th><th>nodes</th></tr>%s</table>"
            % "".join(rows))


def render_html(fleet: Fleet) -> str:
    """One self-contained page: no script, no external asset, safe to attach to a ticket."""
    fixes = printable_data(fleet.fixes.groups())
    fleet = _shown(fleet)
    esc = html.escape
    azs = fleet.groups("availability_zone")
    head = "".join("<th>%s</th>" % esc(az) for az in azs)
    rows = []
    for service in fleet.services():
        cells = []
        for az in azs:
            bad, total, codes = fleet.cell(service, "availability_zone", az)
            css = "none" if total == 0 else ("bad" if bad else "good")
            cells.append('<td class="%s">%s%s</td>' % (css, esc(_cell_text(bad, total)), "".join(
                '<br><code>%s</code>' % esc(code) for code in codes)))
        rows.append("<tr><th>%s</th>%s</tr>" % (esc(service), "".join(cells)))

    def problems(node: Dict[str, Any]) -> str:
        failing = ["%s%s" % (s, " (%s)" % ", ".join(codes) if codes else "")
                   for s, (st, codes) in node["services"].items() if st in PROBLEM]
        return ", ".join(failing + node["node_findings"]) or "-"

    nodes = "".join("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
        esc(n["instance_id"]), esc(n["availability_zone"] or "?"), esc(n["subnet_id"] or "?"), esc(n["status"] or "?"),
        esc(problems(n)), esc(", ".join(n.get("remote") or []) or "-"))
        for n in sorted(fleet.nodes, key=lambda n: (n["availability_zone"] or "", n["instance_id"])))
    headlines = "".join("<li>%s</li>" % esc(h) for h in fleet.headlines()) or "<li>no service fails on any node</li>"
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vpce-doctor fleet</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222} table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top} td.good{background:#dff0d8}
td.bad{background:#f2dede;font-weight:bold} td.none{color:#999} li{margin:.2em 0}
code{font-size:.9em;background:#f4f4f4;padding:0 .2em;white-space:nowrap} td.bad code{font-weight:normal}
td.ids{white-space:nowrap}
td.sev-critical{background:#f2dede;font-weight:bold} td.sev-warning{background:#fcf8e3} td.sev-info{color:#555}
details{margin-top:.3em;color:#444} pre{white-space:pre-wrap;font-size:.85em;background:#f8f8f8;padding:.4em}
</style></head><body>
<h1>vpce-doctor fleet: %d node(s)</h1>
<h2>What stands out</h2><ul>%s</ul>
<h2>Fixes, each once for the nodes it concerns</h2>
%s
<h2>Services by availability zone</h2>
<table><tr><th>service</th>%s</tr>%s</table>
<p>Cells: nodes with a problem / nodes in that AZ ("ok N": all N fine), then the finding codes there.</p>
<h2>Nodes</h2>
<table><tr><th>instance</th><th>AZ</th><th>subnet</th><th>status</th><th>problems (finding codes)</th><th>remote (a hub's endpoint)</th></tr>%s</table>
%s</body></html>
""" % (len(fleet.nodes), headlines, _fixes_html(fixes), head, "".join(rows), nodes,
       "".join("<p>note: %s</p>\n" % esc(n) for n in fleet.notes) +
       "".join("<p>skipped %s</p>\n" % esc(s) for s in fleet.skipped))


RENDERERS = {"text": render_text, "json": render_json, "html": render_html}
