// The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit): the bound both gopsctl and gopsd check a pid against.
export const MAX_PID = 4_194_304;
