// The census's host function (census.c): measurement only.
function census(label, top) @ "xs_census";
export default census;
