/**
 * The RouteGuide service with the official semantics: GetFeature (an unnamed
 * feature where there is none), ListFeatures (every feature in the rectangle),
 * RecordRoute (points, features, metres, seconds) and RouteChat (for each note, the
 * earlier notes at the same location, sent at once).
 */
import { create } from "@bufbuild/protobuf";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Code, GrpcError, type ServiceImpl } from "../../src/index.js";
import { FeatureSchema, RouteGuide, type Feature, type Point, type RouteNote } from "./gen/route_guide_pb.js";
import { distanceMetres, inRectangle, samePoint } from "./features.js";

const maxLatitudeE7 = 90 * 1e7;
const maxLongitudeE7 = 180 * 1e7;

/** Rejects points off the globe with INVALID_ARGUMENT and a BadRequest detail per bad field. */
function checkPoint(point: Point, field: string): void {
  const violations = [];
  if (Math.abs(point.latitude) > maxLatitudeE7) violations.push({ field: `${field}.latitude`, description: "must be within ±90 degrees (E7)" });
  if (Math.abs(point.longitude) > maxLongitudeE7) violations.push({ field: `${field}.longitude`, description: "must be within ±180 degrees (E7)" });
  if (violations.length > 0) {
    throw new GrpcError(Code.INVALID_ARGUMENT, `${field} is not a point on Earth`, {
      details: [{ desc: BadRequestSchema, value: { fieldViolations: violations } }],
    });
  }
}

export function createRouteGuideService(features: readonly Feature[]): ServiceImpl<typeof RouteGuide> {
  const notesByLocation = new Map<string, RouteNote[]>();
  const key = (p: Point | undefined) => `${p?.latitude ?? 0},${p?.longitude ?? 0}`;

  return {
    async getFeature(point) {
      checkPoint(point, "point");
      return features.find((f) => samePoint(f.location, point)) ?? create(FeatureSchema, { name: "", location: point });
    },

    async *listFeatures(rect, ctx) {
      for (const feature of features) {
        ctx.signal.throwIfAborted();
        if (feature.name !== "" && feature.location !== undefined && inRectangle(feature.location, rect)) yield feature;
      }
    },

    async recordRoute(points) {
      const start = Date.now();
      let pointCount = 0;
      let featureCount = 0;
      let distance = 0;
      let previous: Point | undefined;
      for await (const point of points) {
        checkPoint(point, `points[${pointCount}]`);
        pointCount++;
        if (features.some((f) => f.name !== "" && samePoint(f.location, point))) featureCount++;
        if (previous !== undefined) distance += distanceMetres(previous, point);
        previous = point;
      }
      return { pointCount, featureCount, distance: Math.round(distance), elapsedTime: Math.round((Date.now() - start) / 1000) };
    },

    async *routeChat(notes) {
      for await (const note of notes) {
        const list = notesByLocation.get(key(note.location)) ?? [];
        for (const earlier of [...list]) yield earlier;
        list.push(note);
        notesByLocation.set(key(note.location), list);
      }
    },
  };
}
