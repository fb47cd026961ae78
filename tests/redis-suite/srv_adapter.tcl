# Sourced by Redis's test client in place of a unit (run.sh copies it to tests/srv/adapter.tcl
# and passes --single srv/adapter): adapts the external-server harness to srv, then runs the
# unit named by $SRV_REDIS_UNIT (e.g. unit/type/list). The tests themselves run untouched.
#
# What the harness and the units call outside any test that srv lacks, and what the adapter
# answers instead (in a test, these calls are answered the same way):
#   FUNCTION FLUSH (before every start_server block): srv has no functions, so there is nothing
#     to flush: OK.
#   CONFIG SET and CONFIG GET of save and of the list encoding knobs (list-max-ziplist-size,
#     list-max-listpack-size, list-compress-depth; start_server overrides and set-up): srv never
#     saves and has one list representation, so these tune nothing. CONFIG SET answers OK and
#     CONFIG GET the last value set here. Every other CONFIG call goes to srv.
# Everything else goes to srv as it is.

set ::srv_adapter_config {save {} list-max-ziplist-size -2 list-max-listpack-size -2
    list-compress-depth 0}

rename r srv_adapter_r
proc r {args} {
    set level {}
    if {[string is integer -strict [lindex $args 0]]} {
        set level [lindex $args 0]
        set args [lrange $args 1 end]
    }
    set command [string tolower [lindex $args 0]]
    set sub [string tolower [lindex $args 1]]
    if {$command eq {function} && $sub eq {flush}} {
        return OK
    }
    if {$command eq {config} && ($sub eq {set} || $sub eq {get})} {
        set name [string tolower [lindex $args 2]]
        set arity [expr {$sub eq {set} ? 4 : 3}]
        if {[dict exists $::srv_adapter_config $name] && [llength $args] == $arity} {
            if {$sub eq {get}} {
                return [list $name [dict get $::srv_adapter_config $name]]
            }
            dict set ::srv_adapter_config $name [lindex $args 3]
            return OK
        }
    }
    srv_adapter_r {*}$level {*}$args
}

source tests/$::env(SRV_REDIS_UNIT).tcl
