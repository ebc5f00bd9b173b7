/**
 * What every mail server flavour (DMS container, plain Postfix host) shares: Postfix's tools, the socket
 * list, the key-file check and the SSH check towards the relay. Flavour modules add their service manager
 * and log path.
 */
import * as postfix from './postfix.js';
import {
  fileStat,
  listeningTcp,
  readSecretFile,
  removeNewFile,
  replaceFile,
  restrictKeyMode,
  setOwner,
  smtpProbe,
  sshEcho,
  writeNewFile,
} from './posix.js';
import type { CatalogueCommand } from './types.js';

export const mailServerCommands = {
  queueJson: postfix.queueJson,
  queueFileCount: postfix.queueFileCount,
  flushQueue: postfix.flushQueue,
  postsuper: postfix.postsuper,
  postconfNonDefault: postfix.postconfNonDefault,
  postconfMaster: postfix.postconfMaster,
  postconfValues: postfix.postconfValues,
  postmapQuery: postfix.postmapQuery,
  postmapBuild: postfix.postmapBuild,
  postfixReload: postfix.postfixReload,
  readSecretFile,
  writeNewFile,
  replaceFile,
  removeNewFile,
  listeningSockets: (): CatalogueCommand => listeningTcp(true),
  keyFileStat: fileStat,
  fileStat,
  restrictKeyMode,
  setKeyOwner: setOwner,
  smtpProbe,
  /** The probe over TLS (STARTTLS, or implicit on an SMTPS port): what a provider relay offers (AUTH). */
  smtpTlsProbe: (
    host: string,
    port: number,
    timeoutSeconds?: number,
    tls: 'starttls' | 'implicit' = 'starttls',
  ): CatalogueCommand => smtpProbe(host, port, timeoutSeconds, tls === 'implicit' ? 'implicit' : 'may'),
  sshToRelay: sshEcho,
} as const;
