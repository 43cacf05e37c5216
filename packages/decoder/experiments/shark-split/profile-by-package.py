import json,sys,collections
p=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in p['nodes']}
dt=collections.Counter()
for s,d in zip(p['samples'],p['timeDeltas']): dt[s]+=d
cat=collections.Counter(); fn=collections.Counter()
for nid,t in dt.items():
    n=nodes[nid]; cf=n['callFrame']; u=cf['url']
    if '/packages/packet/' in u: k='packet'
    elif '/packages/protocol/' in u: k='protocol'
    elif '/packages/decoder/' in u: k='decoder'
    elif cf['functionName'] in ('(garbage collector)',): k='gc'
    elif cf['functionName']=='(idle)': k='idle'
    elif cf['functionName']=='(program)': k='program'
    elif u.startswith('node:') or u=='' : k='node/native:'+cf['functionName'][:30] if u=='' else 'node-internal'
    else: k='other'
    if k.startswith('node/native'): 
        fn[k]+=t; k='native'
    cat[k]+=t
    if k in('packet','protocol','decoder'): fn[k+':'+cf['functionName']+':'+u.split('/')[-1]]+=t
tot=sum(cat.values())
for k,v in cat.most_common(): print(f"{k:12s} {v/1000:8.0f}ms {100*v/tot:5.1f}%")
print('---top')
for k,v in fn.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 25): print(f"{v/1000:8.0f}ms {100*v/tot:5.1f}% {k}")
