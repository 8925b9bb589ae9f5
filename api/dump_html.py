"""The dump tool's single-file HTML page: graphs laid out here as inline SVG, no network at all.

Layout is a small layered (Sugiyama-style) one: longest-path layers, sources pulled down next to
their first user, a few barycenter sweeps against crossings. A fused group is laid out on its
own first and then placed as one box, so it always draws as a contiguous cluster.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict

import networkx as nx

from .compiler.dot import COLORS

CHAR_W, LINE_H, PAD, GAP_X, GAP_Y, MAX_CHARS = 7.0, 13, 6, 18, 34, 56


def _box(node: dict) -> tuple[float, float, list[str]]:
    lines = [
        ln if len(ln) <= MAX_CHARS else ln[: MAX_CHARS - 1] + "…"
        for ln in node["label"].split("\n")
    ]
    if node.get("kernels"):
        lines.append(" ".join(node["kernels"])[:MAX_CHARS])
    w = max(len(ln) for ln in lines) * CHAR_W + 2 * PAD
    return w, len(lines) * LINE_H + 2 * PAD, lines


def _layout(
    units: dict[str, tuple[float, float]], edges: list[tuple[str, str]]
) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Top-left corners of ``units`` (id -> (w, h)) in layers; returns (pos, width, height)."""
    g = nx.DiGraph()
    g.add_nodes_from(units)
    g.add_edges_from((a, b) for a, b in edges if a != b)
    order = list(nx.topological_sort(g))
    layer: dict[str, int] = {}
    for n in order:
        layer[n] = max((layer[p] + 1 for p in g.predecessors(n)), default=0)
    for n in reversed(order):  # a source sits just above its first user, not at the top
        if g.in_degree(n) == 0 and g.out_degree(n):
            layer[n] = min(layer[s] for s in g.successors(n)) - 1
    rows: dict[int, list[str]] = defaultdict(list)
    for n in order:
        rows[layer[n]].append(n)
    keys = sorted(rows)
    for sweep in range(4):
        seq = keys[1:] if sweep % 2 == 0 else list(reversed(keys[:-1]))
        for r in seq:
            idx = {n: i for k in keys for i, n in enumerate(rows[k])}
            nbrs = g.predecessors if sweep % 2 == 0 else g.successors

            def bary(n: str, nbrs=nbrs, idx=idx) -> float:
                ps = [idx[p] for p in nbrs(n)]
                return sum(ps) / len(ps) if ps else idx[n]

            rows[r].sort(key=bary)
    widths = {r: sum(units[n][0] for n in rows[r]) + GAP_X * (len(rows[r]) - 1) for r in keys}
    total_w = max(widths.values(), default=0)
    pos: dict[str, tuple[float, float]] = {}
    y = 0.0
    for r in keys:
        x = (total_w - widths[r]) / 2
        for n in rows[r]:
            pos[n] = (x, y + (max(units[m][1] for m in rows[r]) - units[n][1]) / 2)
            x += units[n][0] + GAP_X
        y += max(units[m][1] for m in rows[r]) + GAP_Y
    return pos, total_w, max(y - GAP_Y, 0)


def render_svg(graph: dict, uid: str) -> str:
    """An inline <svg> of a dump graph (nodes, edges, clusters as from ``dump.graph_json``)."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    boxes = {k: _box(n) for k, n in nodes.items()}
    unit_of = {k: (n["cluster"] or k) for k, n in nodes.items()}
    abs_pos: dict[str, tuple[float, float]] = {}
    units: dict[str, tuple[float, float]] = {}
    inner: dict[str, dict[str, tuple[float, float]]] = {}
    for c in graph["clusters"]:
        members = {k: boxes[k][:2] for k, n in nodes.items() if n["cluster"] == c["id"]}
        local = [(a, b) for a, b in graph["edges"] if a in members and b in members]
        pos, w, h = _layout(members, local)
        title_w = len(c["label"].split("\n")[0]) * CHAR_W
        inner[c["id"]] = pos
        units[c["id"]] = (max(w, title_w) + 2 * PAD, h + 2 * PAD + 2 * LINE_H)
    for k, n in nodes.items():
        if n["cluster"] is None:
            units[k] = boxes[k][:2]
    outer = [(unit_of[a], unit_of[b]) for a, b in graph["edges"]]
    pos, width, height = _layout(units, outer)
    out: list[str] = []
    for c in graph["clusters"]:
        x, y = pos[c["id"]]
        w, h = units[c["id"]]
        for k, (ix, iy) in inner[c["id"]].items():
            abs_pos[k] = (x + PAD + ix, y + PAD + 2 * LINE_H + iy)
        label = html.escape(c["label"].split("\n")[0] + "  " + " ".join(c.get("kernels", [])))
        out.append(
            f'<g class="cluster" data-id="{c["id"]}"><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{w:.1f}" height="{h:.1f}" rx="8" fill="{COLORS["fused"]}" '
            f'stroke="#16a34a"/><text x="{x + PAD:.1f}" y="{y + LINE_H + 2:.1f}" '
            f'class="ct">{label}</text></g>'
        )
    for k in nodes:
        if k not in abs_pos:
            abs_pos[k] = pos[k]
    for a, b in graph["edges"]:
        (ax, ay), (bx, by) = abs_pos[a], abs_pos[b]
        x1, y1 = ax + boxes[a][0] / 2, ay + boxes[a][1]
        x2, y2 = bx + boxes[b][0] / 2, by
        my = (y1 + y2) / 2
        out.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{my:.1f} {x2:.1f},{my:.1f} '
            f'{x2:.1f},{y2 - 3:.1f}" class="e" marker-end="url(#ah{uid})"/>'
        )
    for k, n in nodes.items():
        x, y = abs_pos[k]
        w, h, lines = boxes[k]
        rx = h / 2 if n["kind"] in ("input", "param", "const") else 4
        spans = "".join(
            f'<tspan x="{x + PAD:.1f}" y="{y + PAD + (i + 1) * LINE_H - 3:.1f}">'
            f"{html.escape(ln)}</tspan>"
            for i, ln in enumerate(lines)
        )
        out.append(
            f'<g class="node" data-id="{k}"><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{w:.1f}" height="{h:.1f}" rx="{rx:.1f}" '
            f'fill="{COLORS.get(n["kind"], COLORS["other"])}"/><text>{spans}</text></g>'
        )
    m = 10
    return (
        f'<svg width="{width + 2 * m:.0f}" height="{height + 2 * m:.0f}" '
        f'viewBox="{-m} {-m} {width + 2 * m:.0f} {height + 2 * m:.0f}"><defs>'
        f'<marker id="ah{uid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/>'
        "</marker></defs>" + "".join(out) + "</svg>"
    )


def render_html(data: dict) -> str:
    """The whole page: stage switch, graph, kernel table, details with source and timings."""
    for e in data["executables"]:
        for s, st in enumerate(e["stages"]):
            st["svg"] = render_svg(st["graph"], f"{e['index']}_{s}") if st["graph"] else None
    payload = json.dumps(data).replace("</", "<\\/").replace("<!--", "<\\!--")
    return PAGE.replace("/*DATA*/", payload)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>clflow graph dump</title>
<style>
body{font:13px system-ui,sans-serif;margin:0;display:flex;height:100vh;color:#111}
#main{flex:1;overflow:auto;padding:10px}#side{width:38%;overflow:auto;border-left:1px solid #ccc;
padding:10px;background:#fafafa}button{margin:2px;padding:3px 8px;border:1px solid #999;
border-radius:4px;background:#fff;cursor:pointer}button.on{background:#2563eb;color:#fff}
pre{background:#f3f4f6;padding:8px;overflow:auto;font:12px ui-monospace,monospace}
svg text{font:11px ui-monospace,monospace}.ct{font-weight:bold}.e{fill:none;stroke:#6b7280}
.node rect{stroke:#374151}.node,.cluster{cursor:pointer}.sel rect{stroke:#dc2626;stroke-width:3}
table{border-collapse:collapse;font:12px ui-monospace,monospace}td,th{padding:2px 6px;
border-bottom:1px solid #ddd;text-align:right}td.l,th.l{text-align:left}tr.k{cursor:pointer}
tr.k:hover{background:#e0e7ff}
</style></head><body>
<div id="main"><div><b>clflow graph dump</b> <span id="dev"></span>
 executable <select id="exe"></select></div><div id="stages"></div><div id="graph"></div>
<h3>Kernels</h3><div id="kernels"></div><details><summary>IR text of this stage</summary>
<pre id="ir"></pre></details></div>
<div id="side"><p>Click a node, a fused group or a kernel row.</p></div>
<script type="application/json" id="clflow-data">/*DATA*/</script>
<script>
const D=JSON.parse(document.getElementById('clflow-data').textContent);
let E=null,S=null;const $=id=>document.getElementById(id);
const esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const fmt=(v,d)=>v==null?'-':Number(v).toFixed(d);
$('dev').textContent=D.device?('on '+D.device):'';
D.executables.forEach(e=>{const o=document.createElement('option');o.value=e.index;
 o.textContent=e.index+': '+e.name+' ('+e.launches.length+' launches)';$('exe').appendChild(o);});
$('exe').onchange=()=>showExe(+$('exe').value);
function showExe(i){E=D.executables.find(e=>e.index===i);$('exe').value=i;$('stages').innerHTML='';
 E.stages.forEach((s,k)=>{const b=document.createElement('button');b.textContent=s.name;
  b.onclick=()=>showStage(k);$('stages').appendChild(b);});
 kernelTable();showStage(E.stages.length-1);}
function showStage(k){S=E.stages[k];[...$('stages').children].forEach((b,j)=>
  b.className=j===k?'on':'');$('graph').innerHTML=S.svg||'<p>(no graph for this stage)</p>';
 $('ir').textContent=S.text;
 $('graph').querySelectorAll('.node,.cluster').forEach(g=>g.onclick=ev=>{ev.stopPropagation();
  $('graph').querySelectorAll('.sel').forEach(x=>x.classList.remove('sel'));
  g.classList.add('sel');showNode(g.dataset.id);});}
function kernelTable(){const rows=E.launches.slice();
 if(E.profiled)rows.sort((a,b)=>(b.time_s||0)-(a.time_s||0));
 let h='<table><tr><th>#</th><th class="l">kernel</th><th>global</th><th>local</th>'+
  '<th>time us</th><th>GFLOP/s</th><th>GB/s</th><th class="l">computes</th></tr>';
 rows.forEach(r=>{h+='<tr class="k" data-i="'+r.index+'"><td>'+r.index+'</td><td class="l">'+
  esc(r.kernel_name)+'</td><td>'+r.global_size.join('x')+'</td><td>'+
  (r.local_size?r.local_size.join('x'):'-')+'</td><td>'+fmt(r.time_s&&r.time_s*1e6,1)+
  '</td><td>'+fmt(r.gflops,2)+'</td><td>'+fmt(r.gbs,2)+'</td><td class="l">'+esc(r.label)+
  '</td></tr>';});
 $('kernels').innerHTML=h+'</table>';
 $('kernels').querySelectorAll('tr.k').forEach(t=>t.onclick=()=>showLaunches([E.launches[+t.dataset.i]],''));}
function showNode(id){const g=S.graph;const n=g.nodes.find(x=>x.id===id);
 const c=g.clusters.find(x=>x.id===id);let h='';
 if(n)h+='<h3>'+esc(n.label.split('\\n')[0])+'</h3><p>type '+esc(n.type)+', users '+n.users+
  (n.attrs?', '+esc(n.attrs):'')+'</p>';
 if(c)h+='<h3>fused group '+esc(c.label)+'</h3>';
 const key=(n&&n.cluster)||id;const pos=+key.slice(1).split('_')[0];
 const ls=S.final&&!/_/.test(key)?E.launches.filter(l=>l.nodes.includes(pos)):[];
 showLaunches(ls,h||'<h3>'+esc(id)+'</h3>');}
function showLaunches(ls,head){let h=head;
 if(!ls.length)h+='<p>No kernel of its own here (a view, an input, or an earlier stage: '+
  'pick the <b>kernels</b> stage to see kernels).</p>';
 ls.forEach(l=>{const k=E.kernels[l.kernel];
  h+='<h4>'+esc(k.name)+'</h4><p>launch '+l.index+': global '+l.global_size.join('x')+
  ', local '+(l.local_size?l.local_size.join('x'):'-')+', '+l.flops+' flop, '+l.nbytes+
  ' bytes'+(l.time_s!=null?'<br>time '+fmt(l.time_s*1e6,1)+' us, '+fmt(l.gflops,2)+
  ' GFLOP/s, '+fmt(l.gbs,2)+' GB/s':' (run with --profile N for times)')+'</p><p>'+
  esc(l.label)+'</p><pre>'+esc(k.source)+'</pre>';});
 $('side').innerHTML=h;}
showExe(D.main!=null?D.main:D.executables[0].index);
</script></body></html>
"""
