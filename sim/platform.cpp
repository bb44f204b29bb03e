#include "sim/platform.hpp"

#include <algorithm>
#include <cmath>

#include <simgrid/s4u/Disk.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

namespace faultline::sim {
namespace sg4 = simgrid::s4u;

Platform::Platform(const ClusterSpec& cluster, const std::vector<NodeInfo>& nodes,
                   const std::vector<double>& cpu_factors)
    : cluster_(cluster) {
  pstate_factors_.push_back(1.0);
  for (double f : cpu_factors)
    if (f > 0 && std::find(pstate_factors_.begin(), pstate_factors_.end(), f) == pstate_factors_.end())
      pstate_factors_.push_back(f);
  std::vector<double> speeds;
  for (double f : pstate_factors_) speeds.push_back(cluster.speed_flops / f);

  const double latency_s = to_seconds(cluster.latency);
  auto* root = sg4::create_star_zone("cluster");

  // Hosts go into `zone`; the host link is the route from the host to the zone's centre.
  auto add_host = [&](sg4::NetZone* zone, const NodeInfo& node) {
    sg4::Host* h = zone->create_host(node.name, speeds);
    h->seal();
    sg4::Link* link = zone->create_split_duplex_link(node.name + "-link", cluster.bandwidth_bytes_s);
    link->set_latency(latency_s)->seal();
    zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr,
                    {sg4::LinkInRoute(link, sg4::LinkInRoute::Direction::UP)}, true);
    sg4::Link* loopback = zone->create_link(node.name + "-loopback", 1e15);
    loopback->set_latency(0)->seal();
    zone->add_route(h->get_netpoint(), h->get_netpoint(), nullptr, nullptr,
                    {sg4::LinkInRoute(loopback)}, false);
    hosts_.push_back(h);
    links_.push_back(link);
    disks_.push_back(nullptr);
    if (cluster.disk) {
      disks_.back() = h->create_disk(node.name + "-disk", cluster.disk->read_bytes_s,
                                     cluster.disk->write_bytes_s);
      disks_.back()->seal();
    }
  };

  // A rack's shuffle gateway (see platform.hpp): its link and its loopback carry `hosts` host
  // links' worth of bandwidth, with the host link's latency.
  auto add_gateway = [&](sg4::NetZone* zone, const std::string& name, std::size_t hosts) {
    sg4::Host* g = zone->create_host(name, cluster.speed_flops);
    g->seal();
    const double bw = cluster.bandwidth_bytes_s * static_cast<double>(std::max<std::size_t>(1, hosts));
    sg4::Link* link = zone->create_split_duplex_link(name + "-link", bw);
    link->set_latency(latency_s)->seal();
    zone->add_route(g->get_netpoint(), nullptr, nullptr, nullptr,
                    {sg4::LinkInRoute(link, sg4::LinkInRoute::Direction::UP)}, true);
    sg4::Link* intra = zone->create_link(name + "-intra", bw);
    intra->set_latency(2 * latency_s)->seal();
    zone->add_route(g->get_netpoint(), g->get_netpoint(), nullptr, nullptr,
                    {sg4::LinkInRoute(intra)}, false);
    gateways_.push_back(g);
  };

  if (cluster.topology == Topology::Racks && cluster.racks) {
    // Two-level tree: hosts -> rack switch -(uplink)-> core -(uplink)-> rack switch -> hosts.
    // The core is split-duplex: a cross-rack flow uses its UP half leaving a rack and its DOWN
    // half entering the other, so the core's aggregate bandwidth is `racks.core`.
    const auto& r = *cluster.racks;
    sg4::Link* core = root->create_split_duplex_link("core", r.core_bytes_s);
    core->set_latency(0)->seal();
    const std::size_t per_rack = static_cast<std::size_t>(std::max(1, r.hosts_per_rack));
    for (std::size_t first = 0; first < nodes.size(); first += per_rack) {
      const std::string rack_name = "rack" + std::to_string(first / per_rack + 1);
      auto* rack = sg4::create_star_zone(rack_name);
      rack->set_parent(root);
      auto* router = rack->create_router(rack_name + "-switch");
      sg4::Link* uplink = rack->create_split_duplex_link(rack_name + "-uplink", r.uplink_bytes_s);
      uplink->set_latency(0)->seal();
      rack->add_route(router, nullptr, nullptr, nullptr,
                      {sg4::LinkInRoute(uplink, sg4::LinkInRoute::Direction::UP)}, true);
      const std::size_t end = std::min(nodes.size(), first + per_rack);
      for (std::size_t i = first; i < end; ++i) {
        add_host(rack, nodes[i]);
        rack_of_.push_back(static_cast<int>(first / per_rack));
      }
      add_gateway(rack, rack_name + "_gateway", end - first);
      rack->seal();
      root->add_route(rack->get_netpoint(), nullptr, router, nullptr,
                      {sg4::LinkInRoute(core, sg4::LinkInRoute::Direction::UP)}, true);
    }
  } else {
    for (const auto& node : nodes) {
      add_host(root, node);
      rack_of_.push_back(0);
    }
    add_gateway(root, "_gateway", nodes.size());
  }
  root->seal();
  disk_factor_.assign(nodes.size(), 1.0);
  extra_latency_.assign(nodes.size(), 0);
}

sg4::Disk* Platform::disk(NodeId id) const { return disks_.at(static_cast<std::size_t>(id)); }

void Platform::set_cpu_factor(NodeId id, double factor) {
  auto it = std::find(pstate_factors_.begin(), pstate_factors_.end(), factor);
  // The loader declares every factor the scenario uses; an unknown one is a faultline bug.
  if (it == pstate_factors_.end()) it = pstate_factors_.begin();
  host(id)->set_pstate(static_cast<unsigned long>(it - pstate_factors_.begin()));
}

void Platform::set_disk_factor(NodeId id, double factor) {
  disk_factor_.at(static_cast<std::size_t>(id)) = factor;
  if (auto* d = disk(id)) {
    d->set_read_bandwidth(cluster_.disk->read_bytes_s / factor);
    d->set_write_bandwidth(cluster_.disk->write_bytes_s / factor);
  }
}

void Platform::add_latency(NodeId id, Duration extra) {
  auto& current = extra_latency_.at(static_cast<std::size_t>(id));
  current += extra;
  links_.at(static_cast<std::size_t>(id))->set_latency(to_seconds(cluster_.latency + current));
}

}  // namespace faultline::sim
