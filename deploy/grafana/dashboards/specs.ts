// The dashboards: one generic dashboard for any ktrace map and one per example program (examples/*.bt).

import { RATE, SEL, queryVariable } from './model.ts';
import type { DashboardSpec } from './model.ts';
import { agentHealthPanels, counterPanels, gaugePanels, histogramPanels } from './panels.ts';

const generic: DashboardSpec = {
  uid: 'ktrace-maps',
  title: 'ktrace / Any bpftrace map',
  file: 'ktrace-maps.json',
  description:
    'Any map of any bpftrace program run by ktrace: pick a histogram, a counter, a gauge and the key to group by; agent health below.',
  extraVariables: [
    queryVariable({
      name: 'histogram',
      label: 'Histogram',
      query: 'label_values({__name__=~"bpftrace_.+_bucket", job=~"$job"}, __name__)',
      regex: '/^(bpftrace_.+)_bucket$/',
      multi: false,
      description: 'A hist()/lhist() map, as its metric name without _bucket.',
    }),
    queryVariable({
      name: 'counter',
      label: 'Counter',
      query: 'label_values({__name__=~"bpftrace_.+_total", job=~"$job"}, __name__)',
      multi: false,
      description: 'A count()/sum() map (or the _count_total/_sum_total of a stats() map).',
    }),
    queryVariable({
      name: 'gauge',
      label: 'Gauge',
      // Everything that is not a counter (_total) or part of a histogram (_bucket, _count).
      query: 'label_values({__name__=~"bpftrace_.+", __name__!~".+_(total|bucket|count)", job=~"$job"}, __name__)',
      multi: false,
      description: 'A min()/max()/avg() map (or the _average of a stats() map).',
    }),
    {
      name: 'key',
      label: 'Group by',
      description: 'A key name of the counter and gauge maps, as written in the program (comm, pid, ...).',
      type: 'textbox',
      query: 'comm',
      current: { text: 'comm', value: 'comm' },
      hide: 0,
      options: [{ selected: true, text: 'comm', value: 'comm' }],
    },
  ],
  items: [
    { row: 'Histogram $histogram' },
    ...histogramPanels({ metric: '${histogram}', what: '$histogram', unit: 'short' }),
    { row: 'Counter $counter by $key' },
    ...counterPanels({ metric: '${counter}', what: '$counter', by: '${key}', unit: 'short' }),
    { row: 'Gauge $gauge by $key' },
    ...gaugePanels({ metric: '${gauge}', what: '$gauge', by: '${key}' }),
    ...agentHealthPanels(),
  ],
};

const syscalls: DashboardSpec = {
  uid: 'ktrace-syscalls',
  title: 'ktrace / Syscalls',
  file: 'ktrace-syscalls.json',
  description: 'examples/syscalls.bt: system calls per second by process name and their latency.',
  items: [
    {
      type: 'stat',
      title: 'Syscalls per second',
      description: 'All system calls on the selected hosts (@syscalls).',
      queries: [{ expr: `sum(rate(bpftrace_syscalls_total{${SEL}}${RATE}))`, legend: 'syscalls/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Syscall latency p99',
      description: 'p99 of the time spent in system calls, all processes (@syscall_latency_ns, exported in seconds).',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(bpftrace_syscall_latency_seconds_bucket{${SEL}}${RATE})))`,
          legend: 'p99',
        },
      ],
      unit: 's',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Processes making syscalls',
      description: 'Distinct process names seen making system calls in the last rate window.',
      queries: [{ expr: `count(sum by (comm) (rate(bpftrace_syscalls_total{${SEL}}${RATE}) > 0))`, legend: 'comms' }],
      width: 8,
      height: 5,
    },
    { row: 'Syscalls by process' },
    ...counterPanels({ metric: 'bpftrace_syscalls_total', what: 'Syscalls', by: 'comm', unit: 'ops' }),
    { row: 'Syscall latency' },
    ...histogramPanels({ metric: 'bpftrace_syscall_latency_seconds', what: 'Syscall latency', unit: 's', by: 'comm' }),
  ],
};

const runqueue: DashboardSpec = {
  uid: 'ktrace-runqueue',
  title: 'ktrace / Run-queue latency',
  file: 'ktrace-runqueue.json',
  description: 'examples/runqueue-latency.bt: how long woken tasks wait for a CPU (alert KtraceRunqueueLatencyHigh).',
  items: [
    {
      type: 'stat',
      title: 'Run-queue latency p99',
      description: 'p99 of the wait between wakeup and running, all CPUs.',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(bpftrace_runq_latency_seconds_bucket{${SEL}}${RATE})))`,
          legend: 'p99',
        },
      ],
      unit: 's',
      width: 12,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Wakeups per second',
      description: 'Tasks woken and scheduled per second (the rate of @runq_latency_us samples).',
      queries: [{ expr: `sum(rate(bpftrace_runq_latency_seconds_count{${SEL}}${RATE}))`, legend: 'wakeups/s' }],
      unit: 'ops',
      width: 12,
      height: 5,
    },
    { row: 'Run-queue latency' },
    ...histogramPanels({ metric: 'bpftrace_runq_latency_seconds', what: 'Run-queue latency', unit: 's' }),
    {
      type: 'timeseries',
      title: 'Run-queue latency p99 by host',
      description: 'p99 per host: the one to look at when the alert fires.',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (instance, le) (rate(bpftrace_runq_latency_seconds_bucket{${SEL}}${RATE})))`,
          legend: '{{instance}}',
        },
      ],
      unit: 's',
      width: 24,
      height: 8,
    },
  ],
};

const readWriteSizes: DashboardSpec = {
  uid: 'ktrace-read-write-sizes',
  title: 'ktrace / Read and write sizes',
  file: 'ktrace-read-write-sizes.json',
  description: 'examples/read-write-sizes.bt: distribution of read() and write() sizes by process name.',
  items: [
    { row: 'Reads' },
    ...histogramPanels({ metric: 'bpftrace_read_bytes', what: 'Read size', unit: 'bytes', by: 'comm' }),
    { row: 'Writes' },
    ...histogramPanels({ metric: 'bpftrace_write_bytes', what: 'Write size', unit: 'bytes', by: 'comm' }),
  ],
};

const fileOpens: DashboardSpec = {
  uid: 'ktrace-file-opens',
  title: 'ktrace / File opens',
  file: 'ktrace-file-opens.json',
  description: 'examples/file-opens.bt: files opened per second by process name, and failed opens.',
  items: [
    {
      type: 'stat',
      title: 'Opens per second',
      description: 'All open calls on the selected hosts (@opens).',
      queries: [{ expr: `sum(rate(bpftrace_opens_total{${SEL}}${RATE}))`, legend: 'opens/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Failed opens per second',
      description: 'Open calls that returned an error (@open_errors).',
      queries: [{ expr: `sum(rate(bpftrace_open_errors_total{${SEL}}${RATE}))`, legend: 'errors/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Share of opens that fail',
      description: 'Failed opens divided by all opens.',
      queries: [
        {
          expr: `sum(rate(bpftrace_open_errors_total{${SEL}}${RATE})) / sum(rate(bpftrace_opens_total{${SEL}}${RATE}))`,
          legend: 'failed share',
        },
      ],
      unit: 'percentunit',
      width: 8,
      height: 5,
    },
    { row: 'Opens' },
    ...counterPanels({ metric: 'bpftrace_opens_total', what: 'Opens', by: 'comm', unit: 'ops' }),
    { row: 'Failed opens' },
    ...counterPanels({ metric: 'bpftrace_open_errors_total', what: 'Failed opens', by: 'comm', unit: 'ops' }),
  ],
};

const blockIo: DashboardSpec = {
  uid: 'ktrace-block-io',
  title: 'ktrace / Block I/O',
  file: 'ktrace-block-io.json',
  description:
    'examples/block-io-latency.bt: block device request latency and bytes by process (alert KtraceBlockIOLatencyHigh).',
  items: [
    { row: 'Latency' },
    ...histogramPanels({ metric: 'bpftrace_block_io_latency_seconds', what: 'Block I/O latency', unit: 's' }),
    { row: 'Bytes by process' },
    ...counterPanels({ metric: 'bpftrace_block_io_bytes_total', what: 'Block I/O bytes', by: 'comm', unit: 'Bps' }),
  ],
};

const cpuProfile: DashboardSpec = {
  uid: 'ktrace-cpu-profile',
  title: 'ktrace / CPU profile',
  file: 'ktrace-cpu-profile.json',
  description: 'examples/cpu-profile.bt: timer samples of what runs on the CPUs, by process name.',
  items: [
    {
      type: 'bargauge',
      title: 'CPU samples per second by process (top 10)',
      description: 'Processes found on-CPU most often by the sampling timer (swapper is the idle task).',
      queries: [
        {
          expr: `topk(10, sum by (comm) (rate(bpftrace_cpu_samples_total{${SEL}}${RATE})))`,
          legend: '{{comm}}',
          instant: true,
        },
      ],
      unit: 'ops',
      width: 12,
      height: 9,
    },
    {
      type: 'timeseries',
      title: 'Share of CPU samples by process (top 10)',
      description: "Each process's share of all samples: a rough on-CPU share.",
      queries: [
        {
          expr:
            `topk(10, sum by (comm) (rate(bpftrace_cpu_samples_total{${SEL}}${RATE})) ` +
            `/ scalar(sum(rate(bpftrace_cpu_samples_total{${SEL}}${RATE}))))`,
          legend: '{{comm}}',
        },
      ],
      unit: 'percentunit',
      width: 12,
      height: 9,
    },
  ],
};

const tcpRetransmits: DashboardSpec = {
  uid: 'ktrace-tcp-retransmits',
  title: 'ktrace / TCP retransmits',
  file: 'ktrace-tcp-retransmits.json',
  description: 'examples/tcp-retransmits.bt: TCP segments retransmitted per second, by destination port.',
  items: [
    {
      type: 'stat',
      title: 'Retransmits per second',
      description:
        'All TCP retransmissions on the selected hosts (SYN retransmits included): loss, congestion or an unreachable peer.',
      queries: [{ expr: `sum(rate(bpftrace_tcp_retransmits_total{${SEL}}${RATE}))`, legend: 'retransmits/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'timeseries',
      title: 'Retransmits per second by host',
      description: 'Which hosts retransmit: one host points at its NIC or path, all of them at the network.',
      queries: [
        { expr: `sum by (instance) (rate(bpftrace_tcp_retransmits_total{${SEL}}${RATE}))`, legend: '{{instance}}' },
      ],
      unit: 'ops',
      width: 16,
      height: 5,
    },
    { row: 'By destination port' },
    ...counterPanels({ metric: 'bpftrace_tcp_retransmits_total', what: 'Retransmits', by: 'dport', unit: 'ops' }),
  ],
};

const bashReadline: DashboardSpec = {
  uid: 'ktrace-bash-readline',
  title: 'ktrace / Interactive bash commands',
  file: 'ktrace-bash-readline.json',
  description: 'examples/bash-readline.bt: command lines typed into interactive bash shells, by user id.',
  items: [
    {
      type: 'stat',
      title: 'Command lines per minute',
      description: 'Lines read by readline() in interactive bash shells on the selected hosts.',
      queries: [{ expr: `sum(rate(bpftrace_bash_readline_total{${SEL}}${RATE})) * 60`, legend: 'lines/min' }],
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Users typing commands',
      description: 'Distinct user ids that entered command lines in the last rate window.',
      queries: [
        { expr: `count(sum by (uid) (rate(bpftrace_bash_readline_total{${SEL}}${RATE}) > 0))`, legend: 'users' },
      ],
      width: 16,
      height: 5,
    },
    { row: 'By user id' },
    ...counterPanels({ metric: 'bpftrace_bash_readline_total', what: 'Command lines', by: 'uid', unit: 'ops' }),
  ],
};

export const DASHBOARDS: DashboardSpec[] = [
  generic,
  syscalls,
  runqueue,
  readWriteSizes,
  fileOpens,
  blockIo,
  cpuProfile,
  tcpRetransmits,
  bashReadline,
];
