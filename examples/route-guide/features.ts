/**
 * The Route Guide's feature database and geometry: the lookups the service
 * semantics need (feature at a point, features in a rectangle, distance between points).
 */
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { FeatureSchema, type Feature, type Point, type Rectangle } from "./gen/route_guide_pb.js";

/** Loads features from a JSON file of `{ name, location: { latitude, longitude } }` in E7 degrees. */
export function loadFeatures(path = new URL("./route_guide_db.json", import.meta.url)): Feature[] {
  const raw = JSON.parse(readFileSync(path, "utf8")) as { name: string; location: { latitude: number; longitude: number } }[];
  return raw.map((f) => create(FeatureSchema, { name: f.name, location: { latitude: f.location.latitude, longitude: f.location.longitude } }));
}

export function samePoint(a: Point | undefined, b: Point | undefined): boolean {
  return a !== undefined && b !== undefined && a.latitude === b.latitude && a.longitude === b.longitude;
}

export function inRectangle(point: Point, rect: Rectangle): boolean {
  const lo = rect.lo ?? { latitude: 0, longitude: 0 };
  const hi = rect.hi ?? { latitude: 0, longitude: 0 };
  const left = Math.min(lo.longitude, hi.longitude);
  const right = Math.max(lo.longitude, hi.longitude);
  const top = Math.max(lo.latitude, hi.latitude);
  const bottom = Math.min(lo.latitude, hi.latitude);
  return point.longitude >= left && point.longitude <= right && point.latitude >= bottom && point.latitude <= top;
}

const coordFactor = 1e7;
const earthRadiusMetres = 6_371_000;

/** Great-circle distance in metres (haversine), as the official Route Guide servers compute it. */
export function distanceMetres(p1: Point, p2: Point): number {
  const toRad = (deg: number) => (deg * Math.PI) / 180;
  const lat1 = toRad(p1.latitude / coordFactor);
  const lat2 = toRad(p2.latitude / coordFactor);
  const dLat = lat2 - lat1;
  const dLng = toRad((p2.longitude - p1.longitude) / coordFactor);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLng / 2) ** 2;
  return earthRadiusMetres * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
}
