# test/dns/crash.sh (sourced by test/dns/run.sh): SIGKILL of the plugin at each step of
# Vault-managed dns-01. The points are held open by pausing the real servers: BIND stopped
# (SIGSTOP) keeps the order in vault-challenge-fulfillment with its record tracked and the
# update unsent; the Route 53 bridge stopped keeps a published record invisible, so the
# order sits in vault-challenge-propagating. After each kill the servers resume and the
# relaunched plugin must complete the order and leave no record behind. (kill_plugin,
# wait_seen and the same case for the cloud providers, crash_published, are in run.sh.)

# 1. Recorded, not yet sent: BIND frozen while the plugin sends the update.
kill -STOP "$NAMED_PID"
new_order auto '{"identifiers":["crash1.example.test"]}'
C1=$ORDER
if wait_seen auto "$C1" vault-challenge-fulfillment 20; then ok "crash 1: order in vault-challenge-fulfillment with BIND frozen"
else not_ok "crash 1: vault-challenge-fulfillment not seen ($(order_status auto "$C1"))"; fi
sleep 0.5
kill_plugin "crash 1 (record tracked, update in flight)"
kill -CONT "$NAMED_PID"
if wait_status auto "$C1" completed 90; then ok "crash 1: order completed after relaunch"; else not_ok "crash 1: completed (last $LAST_STATUS)"; fi
until_no_txt _acme-challenge.crash1.example.test 15 && ok "crash 1: no record left" || not_ok "crash 1: record left: $(named_txt _acme-challenge.crash1.example.test)"

# 2. Published, propagation pending: the bridge frozen, the record is in Route 53 only.
kill -STOP "$BRIDGE_PID"
new_order r53role '{"identifiers":["crash2.r53.test"]}'
C2=$ORDER
if wait_seen r53role "$C2" vault-challenge-propagating 30; then ok "crash 2: order in vault-challenge-propagating"
else not_ok "crash 2: vault-challenge-propagating not seen ($(order_status r53role "$C2"))"; fi
[ -n "$(moto_txt _acme-challenge.crash2.r53.test)" ] && ok "crash 2: the record is published in Route 53" || not_ok "crash 2: record not in Route 53"
kill_plugin "crash 2 (published, during propagation)"
sleep 1
kill -CONT "$BRIDGE_PID"
if wait_status r53role "$C2" completed 90; then ok "crash 2: order completed after relaunch"; else not_ok "crash 2: completed (last $LAST_STATUS)"; fi
sleep 1
vals=$(moto_txt _acme-challenge.crash2.r53.test)
[ -z "$vals" ] && ok "crash 2: no record left in Route 53" || not_ok "crash 2: left in Route 53: $vals"

# 3. Around validation: killed as soon as the CA has been told (processing-challenge or
#    later); whichever side of the record's removal the kill lands, nothing may be left.
new_order auto '{"identifiers":["crash3.example.test","crash3b.example.test"]}'
C3=$ORDER
for i in $(seq 1 400); do
    s=$(order_status auto "$C3")
    case "$s" in processing-challenge|fetching-certificate|completed|awaiting-challenge-fulfillment) break ;; esac
    sleep 0.02
done
kill_plugin "crash 3 (after the CA was notified: $s)"
if wait_status auto "$C3" completed 90; then ok "crash 3: order completed after relaunch"; else not_ok "crash 3: completed (last $LAST_STATUS)"; fi
for n in crash3 crash3b; do
    until_no_txt "_acme-challenge.$n.example.test" 15 && ok "crash 3: no record left for $n" || not_ok "crash 3: record left for $n"
done

# 4. An order that ends while its record cannot be removed (BIND frozen at the end): the
#    periodic sweep removes the record once BIND answers again.
vault POST "$M/config/dns/rfc2136/hidden" '{"propagation_timeout":"2s"}'
new_order auto '{"identifiers":["sweep.hidden.test"]}'
C4=$ORDER
if wait_seen auto "$C4" vault-challenge-propagating 20; then
    kill -STOP "$NAMED_PID"
    wait_status auto "$C4" error 30 && ok "crash 4: order ended (propagation timeout) while BIND is frozen" || not_ok "crash 4: error (last $LAST_STATUS)"
    kill_plugin "crash 4 (ended, record not removed)"
    kill -CONT "$NAMED_PID"
    order_status auto "$C4" >/dev/null   # relaunches the plugin; rollbacks every 2 s sweep
    until_no_txt _acme-challenge.sweep.hidden.test 30 && ok "crash 4: the sweep removed the record" \
        || not_ok "crash 4: record left: $(named_txt _acme-challenge.sweep.hidden.test)"
else
    not_ok "crash 4: vault-challenge-propagating not seen ($(order_status auto "$C4"))"
fi
