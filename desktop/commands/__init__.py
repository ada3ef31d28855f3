"""Command-line commands, one module per area; each has register(subparsers).

Every command module is imported to build the argument parser, on every start (the GUI's too), so a
command imports the services it runs inside its handler: measured after the parser is built (35-50 ms),
each area's services add 0.5-0.9 s at start-up (appeals, casework, core 0.5 s, notices 0.7 s, review
0.8 s, payments 0.9 s; all of them together 0.6-1.2 s). Those imports carry a ``# lazy`` comment with
the figure; everything else is imported at the top.
"""
