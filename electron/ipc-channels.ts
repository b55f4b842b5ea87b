/**
 * Names of the three IPC channels between the preload and Electron main. Kept apart from the
 * console contract because they are a transport detail the renderer never sees.
 */
export const IPC_CALL = 'ferry:call';
export const IPC_HELLO = 'ferry:hello';
export const IPC_EVENT = 'ferry:event';
