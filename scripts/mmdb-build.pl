#!/usr/bin/env perl
# Builds a MaxMind DB (MMDB) file for Lookout's location check from CSV, with MaxMind's own
# writer (Debian: apt-get install libmaxmind-db-writer-perl). Two input shapes, per line:
#
#   network,country_code,asn          a CIDR, a two-letter code and/or an AS number (either may
#                                     be empty); a first line "network,..." is a header
#   first_ip,last_ip,asn[,org]        a range, as in the @ip-location-db/asn CSV files
#                                     (asn-ipv4.csv, asn-ipv6.csv: DB-IP and Route Views data)
#
# Records hold `country_code` and `autonomous_system_number` (plus
# `autonomous_system_organization` when given): the keys Lookout reads, so one file can serve
# as both geo.country_db and geo.asn_db.
#
#   scripts/mmdb-build.pl --out asn.mmdb node_modules/@ip-location-db/asn/asn-ipv4.csv ...
#
# Reserved networks (loopback included) are kept: the simulated world lives in 127.0.0.0/8.
# IPv4 networks live at ::a.b.c.d; no IPv6 aliases (Lookout unmaps ::ffff:a.b.c.d itself).
use strict;
use warnings;
use Getopt::Long;
use MaxMind::DB::Writer::Tree;

my ($out, $type, $description) = (undef, 'Lookout-Location', 'Lookout location database');
GetOptions('out=s' => \$out, 'type=s' => \$type, 'description=s' => \$description)
  or die "usage: $0 --out FILE [--type NAME] [--description TEXT] INPUT.csv...\n";
die "usage: $0 --out FILE [--type NAME] [--description TEXT] INPUT.csv...\n" unless defined $out && @ARGV;

my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version               => 6,
  record_size              => 28,
  database_type            => $type,
  languages                => ['en'],
  description              => { en => $description },
  remove_reserved_networks => 0,
  alias_ipv6_to_ipv4       => 0,
  map_key_type_callback    => sub {
    my $key = shift;
    return $key eq 'autonomous_system_number' ? 'uint32' : 'utf8_string';
  },
);

# Splits one CSV line; fields may be quoted with "..." ("" inside is one quote).
sub fields {
  my ($line) = @_;
  my @f;
  while ($line =~ /\G(?:"((?:[^"]|"")*)"|([^,]*))(?:,|$)/g) {
    push @f, defined $1 ? ($1 =~ s/""/"/gr) : $2;
    last if pos($line) >= length($line);
  }
  return @f;
}

my $n = 0;
for my $file (@ARGV) {
  open(my $fh, '<', $file) or die "$file: $!\n";
  while (my $line = <$fh>) {
    $line =~ s/\r?\n$//;
    next if $line eq '' || $line =~ /^#/ || $line =~ /^network,/;
    my @f = fields($line);
    my %record;
    if ($f[0] =~ m{/}) {
      my ($net, $cc, $asn) = @f;
      $record{country_code} = uc $cc if defined $cc && $cc ne '';
      $record{autonomous_system_number} = 0 + $asn if defined $asn && $asn ne '';
      die "$file:$.: nothing to record for $net\n" unless %record;
      $tree->insert_network($net, \%record);
    } else {
      my ($first, $last, $asn, $org) = @f;
      die "$file:$.: expected first_ip,last_ip,asn\n" unless defined $asn && $asn =~ /^\d+$/;
      $record{autonomous_system_number} = 0 + $asn;
      $record{autonomous_system_organization} = $org if defined $org && $org ne '';
      $tree->insert_range($first, $last, \%record);
    }
    $n++;
  }
  close($fh);
}
open(my $fh, '>:raw', $out) or die "$out: $!\n";
$tree->write_tree($fh);
close($fh) or die "$out: $!\n";
print "$out: $n networks\n";
