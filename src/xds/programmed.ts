// The `Programmed` verdict of a pool from what its data planes reported on the config stream.

export interface ReplicaView {
  replica: string;
  appliedVersion: string | null;
  lastNack: { version: string; error: string } | null;
  connectedAt: number;
}

export interface ProgrammedVerdict {
  status: 'True' | 'False' | 'Unknown';
  reason: 'Programmed' | 'Pending' | 'Rejected' | 'NoDataPlanes' | 'NoSnapshot';
  message: string;
}

/**
 * True when every connected replica applied the current version; False with the refusal when a
 * replica NACKed it (the others keep their last good snapshot); False Pending while some are
 * behind; False NoDataPlanes when none is connected. Readiness of a replica follows its stream:
 * a data plane reports ready only once it serves a snapshot.
 */
export function programmedVerdict(version: string | null, replicas: ReplicaView[]): ProgrammedVerdict {
  if (version === null)
    return { status: 'Unknown', reason: 'NoSnapshot', message: 'no snapshot compiled for this pool yet' };
  if (replicas.length === 0) {
    return {
      status: 'False',
      reason: 'NoDataPlanes',
      message: `no data plane is connected to receive ${version}`,
    };
  }
  const refused = [...replicas]
    .sort((a, b) => (a.replica < b.replica ? -1 : 1))
    .find((r) => r.lastNack?.version === version);
  if (refused) {
    return {
      status: 'False',
      reason: 'Rejected',
      message: `data plane ${refused.replica} refused ${version}: ${refused.lastNack!.error}`,
    };
  }
  const done = replicas.filter((r) => r.appliedVersion === version).length;
  if (done === replicas.length)
    return {
      status: 'True',
      reason: 'Programmed',
      message: `${done}/${replicas.length} data planes serve ${version}`,
    };
  return {
    status: 'False',
    reason: 'Pending',
    message: `${done}/${replicas.length} data planes serve ${version}`,
  };
}
