#!/usr/bin/env python3
# Medians per side of runc create/start/delete (bench/runc-timing/runc) and of the step lines in a bench
# log (run-fine with -Dorg.slf4j.simpleLogger.log.dev.berth.timing=debug; go-steps of bench/goclient).
# Usage: steps.py <run dir>/log.txt <runc timing log>
import re,sys,statistics as st
log=open(sys.argv[1]).read().splitlines()
runc=open(sys.argv[2]).read().splitlines()
calls={}
for l in runc:
    f=l.split()
    if len(f)<6: continue
    s,e=float(f[0]),float(f[1]); args=f[4:]
    root=args[args.index('--root')+1] if '--root' in args else ''
    for cmd in ('create','start','delete','kill','state'):
        if cmd in args:
            i=args.index(cmd)
            cid=args[-1] if cmd!='create' else None
            if cmd=='create':
                b=args[args.index('--bundle')+1]; cid=b.rsplit('/',1)[1]
            side='berth-shared' if root.endswith('berth-state/runc/bench-berth') else 'berth-default' if 'berth-state-default' in root else 'berth-nospare' if 'nospare' in root else 'go' if root.endswith('bench-go') else 'ctr' if root.endswith('bench-run') else root
            calls.setdefault((side,cid),{})[cmd]=(e-s)*1000
            break
def med(xs): return st.median(xs) if xs else float('nan')
rows={}
for (side,cid),d in calls.items():
    if not cid.startswith('echo-'): continue
    key=side
    if side=='go': key='go-grouped' if cid.endswith('-g') else 'go-pertask'
    if cid.endswith('-ab'): key+='-ab'
    for k,v in d.items(): rows.setdefault(key,{}).setdefault(k,[]).append(v)
for k in sorted(rows):
    print(k, {c:round(med(v),1) for c,v in rows[k].items()}, 'n',len(rows[k].get('create',[])))
# berth steps
steps={}
for l in log:
    m=re.search(r'run-fine (\S+) \S+/(echo-\S+) (.*)',l)
    if m:
        st_,cid,rest=m.groups(); f=rest.split()
        key=st_+('-ab' if cid.endswith('-ab') else '')
        for i in range(0,len(f)-1,2):
            try: steps.setdefault(key,{}).setdefault(f[i],[]).append(float(f[i+1]))
            except: pass
for k in sorted(steps):
    print(k, ' '.join(f'{s} {med(v):.1f}' for s,v in steps[k].items()))
gs={}
for l in log:
    m=re.search(r'go-steps (echo-\S+) (\d) (.*) start-abs',l)
    if m:
        cid,g,rest=m.groups(); f=rest.split()
        for i in range(0,len(f)-1,2): gs.setdefault(g,{}).setdefault(f[i],[]).append(float(f[i+1]))
for k in gs: print('go', 'grouped' if k=='1' else 'pertask', ' '.join(f'{s} {med(v):.1f}' for s,v in gs[k].items()))
